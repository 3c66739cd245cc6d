import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProbeJob, ProbeResult } from '../../src/probe/types.js';
import { RunAbortedError, Scheduler } from '../../src/scheduler/scheduler.js';
import { nextAlignedAt, phaseOffsetMs } from '../../src/scheduler/spread.js';
import { FakeClock } from '../fakes/fake-clock.js';

const START = Date.UTC(2025, 0, 1);

function makeJob(key: string, intervalMs = 60_000, host = 'imap.test'): ProbeJob {
  return {
    key,
    target: key,
    intervalMs,
    spec: { target: key, host, port: 993, tls: 'tls', tlsConfig: { insecureSkipVerify: false }, timeoutMs: 600_000 },
  };
}

function firstRun(key: string, intervalMs: number, from = START): number {
  return nextAlignedAt(from, phaseOffsetMs(key, intervalMs), intervalMs);
}

interface Call {
  job: ProbeJob;
  signal: AbortSignal;
  at: number;
  finish: () => void;
}

/** An engine whose runs end only when the test finishes them (they ignore aborts). */
function harness(concurrency = 10, abandonAfterMs = 5_000) {
  const clock = new FakeClock(START);
  const calls: Call[] = [];
  const delivered: string[] = [];
  const skips: string[] = [];
  const scheduler = new Scheduler({
    clock,
    concurrency,
    abandonAfterMs,
    runProbe: (job, signal) =>
      new Promise<ProbeResult>((resolve) => {
        const at = clock.now();
        const finish = (): void =>
          resolve({
            target: job.target,
            success: true,
            startedAt: at,
            endedAt: clock.now(),
            durationSeconds: 0,
            stages: [],
            facts: { lists: [] },
            transcript: [],
          });
        calls.push({ job, signal, at, finish });
      }),
    onResult: (job) => void delivered.push(job.key),
    onSkip: (job) => void skips.push(job.key),
  });
  const finishAll = (): void => calls.forEach((c) => c.finish());
  return { clock, scheduler, calls, delivered, skips, finishAll };
}

describe('Scheduler reloads', () => {
  it('keeps an unchanged job on its schedule and gives it the new spec at its next run', async () => {
    const h = harness();
    h.scheduler.setJobs([makeJob('a'), makeJob('b')]);
    const due = firstRun('a', 60_000);
    await h.clock.advanceTo(due);
    h.finishAll();
    await h.clock.advance(30_000);
    const before = h.scheduler.nextRunAt('a');
    const runs = h.calls.filter((c) => c.job.key === 'a').length;

    const summary = h.scheduler.setJobs([makeJob('a', 60_000, 'imap2.test'), makeJob('b')]);
    assert.deepEqual(summary, { added: 0, removed: 0, rescheduled: 0, kept: 2 });
    assert.equal(h.scheduler.nextRunAt('a'), before);
    await h.clock.advanceTo(due + 60_000 - 1);
    assert.equal(h.calls.filter((c) => c.job.key === 'a').length, runs, 'not re-run early');
    await h.clock.advance(1);
    const last = h.calls.at(-1);
    assert.equal(last?.job.key, 'a');
    assert.equal(last.at, due + 60_000);
    assert.equal(last.job.spec.host, 'imap2.test');
    await stop(h);
  });

  it('starts a new job at its offset', async () => {
    const h = harness();
    h.scheduler.setJobs([makeJob('a')]);
    await h.clock.advance(42_000);
    assert.deepEqual(h.scheduler.setJobs([makeJob('a'), makeJob('new')]), { added: 1, removed: 0, rescheduled: 0, kept: 1 });
    const due = firstRun('new', 60_000, h.clock.now());
    assert.equal(h.scheduler.nextRunAt('new'), due);
    assert.equal((due - phaseOffsetMs('new', 60_000)) % 60_000, 0);
    await h.clock.advanceTo(due);
    assert.equal(h.calls.filter((c) => c.job.key === 'new').length, 1);
    assert.equal(h.calls.find((c) => c.job.key === 'new')?.at, due);
    await stop(h);
  });

  it('aborts a removed job in flight, drops its late result, and runs it no more', async () => {
    const h = harness();
    h.scheduler.setJobs([makeJob('gone'), makeJob('stays')]);
    await h.clock.advance(60_000);
    const gone = h.calls.find((c) => c.job.key === 'gone');
    assert.ok(gone && !gone.signal.aborted);
    assert.deepEqual(h.scheduler.setJobs([makeJob('stays')]), { added: 0, removed: 1, rescheduled: 0, kept: 1 });
    assert.equal(gone.signal.aborted, true);
    assert.equal((gone.signal.reason as RunAbortedError).why, 'removed');
    assert.equal(h.scheduler.nextRunAt('gone'), undefined);
    gone.finish();
    h.calls.find((c) => c.job.key === 'stays')?.finish();
    await h.clock.advance(180_000);
    assert.deepEqual(h.delivered, ['stays']);
    assert.equal(h.calls.filter((c) => c.job.key === 'gone').length, 1);
    await stop(h);
  });

  it('drops a queued run whose job was removed', async () => {
    const h = harness(1);
    const keys = ['r1', 'r2'];
    const [first, second] = [...keys].sort((a, b) => firstRun(a, 60_000) - firstRun(b, 60_000)) as [string, string];
    h.scheduler.setJobs(keys.map((k) => makeJob(k)));
    await h.clock.advanceTo(firstRun(second, 60_000));
    assert.equal(h.scheduler.queued(), 1);
    h.scheduler.setJobs([makeJob(first)]);
    assert.equal(h.scheduler.queued(), 0);
    h.finishAll();
    await h.clock.advance(1_000);
    assert.deepEqual(h.calls.map((c) => c.job.key), [first]);
    await stop(h);
  });

  it('a run still queued at a reload starts with the new spec', async () => {
    const h = harness(1);
    const keys = ['p1', 'p2'];
    const [first, second] = [...keys].sort((a, b) => firstRun(a, 60_000) - firstRun(b, 60_000)) as [string, string];
    h.scheduler.setJobs(keys.map((k) => makeJob(k)));
    await h.clock.advanceTo(firstRun(second, 60_000));
    assert.equal(h.scheduler.queued(), 1);
    h.scheduler.setJobs([makeJob(first), makeJob(second, 60_000, 'moved.test')]);
    h.finishAll();
    await h.clock.advance(0);
    assert.equal(h.calls[1]?.job.key, second);
    assert.equal(h.calls[1]?.job.spec.host, 'moved.test');
    await stop(h);
  });

  it('reschedules a job whose interval changed', async () => {
    const h = harness();
    h.scheduler.setJobs([makeJob('a', 60_000)]);
    await h.clock.advance(1_234);
    assert.deepEqual(h.scheduler.setJobs([makeJob('a', 15_000)]), { added: 0, removed: 0, rescheduled: 1, kept: 0 });
    const due = firstRun('a', 15_000, h.clock.now());
    assert.equal(h.scheduler.nextRunAt('a'), due);
    await h.clock.advanceTo(due + 15_000);
    h.finishAll();
    assert.deepEqual(h.calls.map((c) => c.at), [due]);
    await h.clock.advance(15_000);
    assert.deepEqual(h.calls.map((c) => c.at), [due, due + 30_000]);
    await stop(h);
  });

  it('a job removed and re-added while its aborted run is unsettled does not run twice at once', async () => {
    const h = harness(10, 25_000);
    h.scheduler.setJobs([makeJob('x', 10_000)]);
    await h.clock.advance(10_000);
    const removedAt = h.clock.now();
    h.scheduler.setJobs([]);
    h.scheduler.setJobs([makeJob('x', 10_000)]);
    await h.clock.advanceTo(h.scheduler.nextRunAt('x') as number);
    assert.equal(h.calls.length, 1);
    assert.deepEqual(h.skips, ['x']);
    await h.clock.advanceTo(removedAt + 25_000); // the old run is abandoned: the key is free again
    await h.clock.advanceTo(h.scheduler.nextRunAt('x') as number);
    assert.equal(h.calls.length, 2);
    await stop(h);
  });

  it('rejects duplicate keys and bad intervals without changing anything', async () => {
    const h = harness();
    h.scheduler.setJobs([makeJob('a')]);
    const due = h.scheduler.nextRunAt('a');
    assert.throws(() => h.scheduler.setJobs([makeJob('b'), makeJob('b')]), /duplicate job key: b/);
    assert.throws(() => h.scheduler.setJobs([makeJob('c', 0)]), RangeError);
    assert.equal(h.scheduler.nextRunAt('a'), due);
    assert.equal(h.scheduler.nextRunAt('b'), undefined);
    await stop(h);
    assert.deepEqual(h.scheduler.setJobs([makeJob('late')]), { added: 0, removed: 0, rescheduled: 0, kept: 0 });
    assert.equal(h.clock.pending(), 0);
  });
});

async function stop(h: ReturnType<typeof harness>): Promise<void> {
  const stopping = h.scheduler.stop({ graceMs: 0 });
  await h.clock.advance(30_000);
  await stopping;
  assert.equal(h.clock.pending(), 0);
}
