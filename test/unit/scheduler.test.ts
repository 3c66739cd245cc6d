import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProbeJob, ProbeResult } from '../../src/probe/types.js';
import { RunAbortedError, Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';
import { phaseOffsetMs } from '../../src/scheduler/spread.js';
import { FakeClock, flushPromises } from '../fakes/fake-clock.js';
import { ProbeSlots } from '../../src/probe/slots.js';

const START = Date.UTC(2025, 0, 1);

function makeJob(key: string, intervalMs = 60_000, timeoutMs = 10_000): ProbeJob {
  return {
    key,
    target: key,
    intervalMs,
    spec: { target: key, host: 'imap.test', port: 993, tls: 'tls', tlsConfig: { insecureSkipVerify: false }, timeoutMs },
  };
}

function resultFor(job: ProbeJob, startedAt: number, endedAt: number, success = true): ProbeResult {
  return {
    target: job.target,
    success,
    startedAt,
    endedAt,
    durationSeconds: (endedAt - startedAt) / 1000,
    stages: [],
    facts: { lists: [] },
    transcript: [],
  };
}

/** How the fake engine treats a job: a duration in ms, or a misbehaviour. */
type Behaviour = number | 'hang' | 'ignore-abort' | 'reject' | 'throw';

interface Call {
  job: ProbeJob;
  signal: AbortSignal;
  at: number;
  /** Settles a run that ignores its abort, whenever the test likes. */
  finish: () => void;
}

/** A scripted engine on the fake clock that measures its own concurrency. */
function harness(behaviours: Record<string, Behaviour>, options: Partial<SchedulerOptions> = {}) {
  const clock = new FakeClock(START);
  const calls: Call[] = [];
  const results: { job: ProbeJob; result: ProbeResult }[] = [];
  const skips: string[] = [];
  const errors: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const runProbe = (job: ProbeJob, signal: AbortSignal): Promise<ProbeResult> => {
    const behaviour = behaviours[job.key] ?? 1;
    const at = clock.now();
    if (behaviour === 'throw') throw new Error('engine bug (sync)');
    if (behaviour === 'reject') return Promise.reject(new Error('engine bug (async)'));
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise<ProbeResult>((resolve) => {
      const done = (success: boolean): void => {
        inFlight -= 1;
        resolve(resultFor(job, at, clock.now(), success));
      };
      calls.push({ job, signal, at, finish: () => done(true) });
      if (behaviour === 'ignore-abort') return;
      const timer = typeof behaviour === 'number' ? clock.setTimeout(() => done(true), behaviour) : undefined;
      signal.addEventListener('abort', () => {
        if (timer !== undefined) clock.clearTimeout(timer);
        done(false);
      });
    });
  };
  const logger = {
    debug() {},
    info() {},
    warn() {},
    error: (_obj: object, msg?: string) => void errors.push(msg ?? ''),
  };
  const scheduler = new Scheduler({
    clock,
    runProbe,
    concurrency: 10,
    onResult: (job, result) => void results.push({ job, result }),
    onSkip: (job, why) => void skips.push(`${job.key}:${why}`),
    logger,
    ...options,
  });
  /** Stops and moves time on until every run settled or was abandoned. */
  const shutdown = async (): Promise<void> => {
    const stopping = scheduler.stop({ graceMs: 0 });
    await clock.advance(60_000);
    await stopping;
    assert.equal(clock.pending(), 0);
  };
  return { clock, scheduler, calls, results, skips, errors, shutdown, maxInFlight: () => maxInFlight };
}

/** The first run time of a job started at START. */
function firstRun(key: string, intervalMs: number): number {
  const offset = phaseOffsetMs(key, intervalMs);
  const phase = (((START - offset) % intervalMs) + intervalMs) % intervalMs;
  return phase === 0 ? START : START + intervalMs - phase;
}

describe('Scheduler', () => {
  it('runs a job every interval at its phase', async () => {
    const h = harness({ a: 50 });
    h.scheduler.setJobs([makeJob('a', 10_000)]);
    const first = firstRun('a', 10_000);
    assert.equal(h.scheduler.nextRunAt('a'), first);
    await h.clock.advanceTo(first + 50_000);
    assert.deepEqual(
      h.calls.map((c) => c.at),
      [0, 1, 2, 3, 4, 5].map((i) => first + i * 10_000),
    );
    assert.equal(h.results.length, 5); // the sixth is still running
    assert.equal(h.scheduler.nextRunAt('a'), first + 60_000);
    await h.shutdown();
  });

  it('skips a run while the previous one is in flight, then runs on time', async () => {
    const h = harness({ slow: 25_000 });
    h.scheduler.setJobs([makeJob('slow', 10_000, 60_000)]);
    const first = firstRun('slow', 10_000);
    await h.clock.advanceTo(first + 30_000);
    assert.deepEqual(h.calls.map((c) => c.at - first), [0, 30_000]);
    assert.deepEqual(h.skips, ['slow:overlap', 'slow:overlap']);
    assert.equal(h.results.length, 1);
    await h.shutdown();
  });

  it('never has more than `concurrency` runs in flight, and queues FIFO', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `job-${i}`);
    const h = harness(Object.fromEntries(keys.map((k) => [k, 700])), { concurrency: 4 });
    h.scheduler.setJobs(keys.map((k) => makeJob(k, 1_000)));
    let maxQueued = 0;
    for (let t = 0; t < 10_000; t += 50) {
      await h.clock.advance(50);
      assert.ok(h.scheduler.inFlight() <= 4);
      maxQueued = Math.max(maxQueued, h.scheduler.queued());
    }
    assert.equal(h.maxInFlight(), 4);
    assert.ok(maxQueued > 0, 'the limit was actually reached');
    assert.ok(h.skips.length > 0, 'jobs still queued when due again are skipped');
    await h.shutdown();
  });

  it('shares its budget with /probe: never more runs than the shared slots allow, and a freed slot goes to the schedule first', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `job-${i}`);
    const slots = new ProbeSlots(3, 10);
    const h = harness(Object.fromEntries(keys.map((k) => [k, 700])), { concurrency: 3, slots });
    // Two on-demand probes hold two of the three slots until released by hand.
    const releases: (() => void)[] = [];
    const onDemand = [0, 1].map(() => slots.runOnDemand(60_000, () => new Promise<void>((resolve) => releases.push(resolve))));
    await flushPromises();
    assert.equal(slots.active, 2);
    h.scheduler.setJobs(keys.map((k) => makeJob(k, 1_000)));
    let most = 0;
    for (let t = 0; t < 3_000; t += 50) {
      await h.clock.advance(50);
      assert.ok(slots.active <= 3, `${slots.active} slots taken`);
      most = Math.max(most, h.scheduler.inFlight());
    }
    assert.equal(most, 1, 'the schedule ran in the one slot left');
    assert.ok(h.scheduler.queued() > 0, 'the rest of the schedule waited');
    // A third /probe now queues behind the schedule: a freed slot goes to the scheduled run waiting.
    const third = slots.runOnDemand(60_000, () => Promise.resolve('third'));
    releases.shift()!();
    await flushPromises();
    assert.equal(h.scheduler.inFlight(), 2, 'the freed slot went to the schedule');
    assert.equal(slots.active, 3);
    releases.shift()!();
    await Promise.all(onDemand);
    await h.shutdown();
    assert.equal(await third, 'third', 'the /probe waiting got a slot once the schedule stopped');
    assert.equal(slots.active, 0);
  });

  it('starts queued runs in the order they became due', async () => {
    const keys = ['q1', 'q2', 'q3', 'q4', 'q5', 'q6'];
    const byDue = [...keys].sort((a, b) => firstRun(a, 60_000) - firstRun(b, 60_000));
    const blocker = byDue[0] as string;
    const h = harness({ ...Object.fromEntries(keys.map((k) => [k, 10])), [blocker]: 'ignore-abort' }, {
      concurrency: 1,
      deadlineGraceMs: 60_000,
    });
    h.scheduler.setJobs(keys.map((k) => makeJob(k)));
    await h.clock.advanceTo(Math.max(...keys.map((k) => firstRun(k, 60_000))));
    assert.equal(h.scheduler.queued(), keys.length - 1);
    h.calls[0]?.finish();
    await h.clock.advance(1_000);
    assert.deepEqual(h.calls.map((c) => c.job.key), byDue);
    await h.shutdown();
  });

  it('reports how late each run starts against its slot: 0 on time, the wait for a slot when queued', async () => {
    const keys = ['q1', 'q2', 'q3', 'q4'];
    const byDue = [...keys].sort((a, b) => firstRun(a, 60_000) - firstRun(b, 60_000));
    const blocker = byDue[0] as string;
    const starts: { key: string; lateMs: number; at: number }[] = [];
    const h = harness({ ...Object.fromEntries(keys.map((k) => [k, 10])), [blocker]: 'ignore-abort' }, {
      concurrency: 1,
      deadlineGraceMs: 60_000,
      onStart: (job, lateMs) => void starts.push({ key: job.key, lateMs, at: h.clock.now() }),
    });
    h.scheduler.setJobs(keys.map((k) => makeJob(k)));
    const lastDue = Math.max(...keys.map((k) => firstRun(k, 60_000)));
    await h.clock.advanceTo(lastDue + 500);
    h.calls[0]?.finish();
    await h.clock.advance(1_000);
    assert.deepEqual(starts.map((s) => s.key), byDue);
    assert.equal(starts[0]?.lateMs, 0, 'the first started in its slot');
    for (const s of starts.slice(1)) {
      assert.equal(s.lateMs, s.at - firstRun(s.key, 60_000), `${s.key}: start minus slot`);
      assert.ok(s.lateMs >= 500, `${s.key} waited for the slot the blocker held`);
    }
    await h.shutdown();
  });

  it('a hung run does not delay others, and is aborted at its deadline', async () => {
    const others = ['o1', 'o2', 'o3', 'o4', 'o5'];
    const h = harness({ hung: 'hang' }, { concurrency: 2 });
    h.scheduler.setJobs([makeJob('hung', 60_000, 5_000), ...others.map((k) => makeJob(k))]);
    await h.clock.advance(60_000);
    for (const key of others) {
      const call = h.calls.find((c) => c.job.key === key);
      assert.equal(call?.at, firstRun(key, 60_000), `${key} ran on time`);
    }
    const hung = h.calls.find((c) => c.job.key === 'hung');
    assert.ok(hung?.signal.aborted);
    assert.ok(hung.signal.reason instanceof RunAbortedError);
    assert.equal(hung.signal.reason.why, 'deadline');
    // The engine's own result for an aborted run (a timeout) is still delivered.
    const delivered = h.results.find((r) => r.job.key === 'hung');
    assert.equal(delivered?.result.endedAt, hung.at + 6_000);
    assert.equal(delivered.result.success, false);
    await h.shutdown();
  });

  it('reclaims the slot of a run that ignores its abort, and drops its late result', async () => {
    const h = harness({ deaf: 'ignore-abort' }, { concurrency: 1, abandonAfterMs: 2_000 });
    h.scheduler.setJobs([makeJob('deaf', 60_000, 5_000)]);
    await h.clock.advance(60_000);
    const first = h.calls[0];
    assert.equal(first?.signal.aborted, true);
    assert.equal(h.scheduler.inFlight(), 0);
    assert.ok(h.errors.some((m) => m.includes('ignored its abort')));
    await h.clock.advance(60_000);
    assert.equal(h.calls.length, 2, 'the next run was not blocked');
    first?.finish();
    await h.clock.advance(0);
    assert.equal(h.results.length, 0);
    await h.shutdown();
  });

  it('a throwing or rejecting runProbe, or a throwing onResult, breaks nothing', async () => {
    const h = harness({});
    let bad = true;
    const good: string[] = [];
    const scheduler = new Scheduler({
      clock: h.clock,
      concurrency: 1,
      runProbe: (job) => {
        if (job.key === 'sync') throw new Error('engine bug (sync)');
        if (job.key === 'async') return Promise.reject(new Error('engine bug (async)'));
        return Promise.resolve(resultFor(job, h.clock.now(), h.clock.now()));
      },
      onResult: (job) => {
        if (job.key === 'fine2' && bad) {
          bad = false;
          throw new Error('consumer bug');
        }
        good.push(job.key);
      },
      logger: { debug() {}, info() {}, warn() {}, error: (_o, msg) => void h.errors.push(msg ?? '') },
    });
    scheduler.setJobs(['sync', 'async', 'fine', 'fine2'].map((k) => makeJob(k, 10_000)));
    await h.clock.advance(30_000);
    assert.deepEqual(good.filter((k) => k === 'fine').length, 3);
    assert.deepEqual(good.filter((k) => k === 'fine2').length, 2);
    assert.equal(scheduler.inFlight(), 0);
    assert.equal(h.errors.filter((m) => m.includes('runProbe rejected')).length, 6);
    assert.equal(h.errors.filter((m) => m.includes('onResult threw')).length, 1);
    await scheduler.stop({ graceMs: 0 });
  });

  it('stop() lets runs finish within the grace, aborts the rest, drops the queue, leaves no timer', async () => {
    const keys = ['s1', 's2', 's3'];
    const [hung, slow, waiting] = [...keys].sort((a, b) => firstRun(a, 60_000) - firstRun(b, 60_000)) as [string, string, string];
    const h = harness({ [hung]: 'hang', [slow]: 'ignore-abort', [waiting]: 10 }, { concurrency: 2 });
    h.scheduler.setJobs(keys.map((k) => makeJob(k, 60_000, 600_000)));
    await h.clock.advanceTo(firstRun(waiting, 60_000));
    assert.equal(h.scheduler.inFlight(), 2);
    assert.equal(h.scheduler.queued(), 1);

    let stopped = false;
    const stopping = h.scheduler.stop({ graceMs: 2_000 }).then(() => void (stopped = true));
    assert.equal(h.scheduler.stop({ graceMs: 2_000 }), h.scheduler.stop({ graceMs: 0 }), 'idempotent');
    assert.equal(h.scheduler.queued(), 0);
    assert.equal(h.scheduler.nextRunAt(hung), undefined);
    await h.clock.advance(1_000);
    h.calls.find((c) => c.job.key === slow)?.finish(); // finishes within the grace: delivered
    await h.clock.advance(999);
    assert.equal(stopped, false);
    await h.clock.advance(1);
    await stopping;

    assert.deepEqual(h.calls.map((c) => [c.job.key, c.signal.aborted]), [[hung, true], [slow, false]]);
    assert.equal((h.calls[0]?.signal.reason as RunAbortedError).why, 'stopping');
    assert.deepEqual(h.results.map((r) => r.job.key), [slow], 'the aborted run\'s result is dropped');
    assert.equal(h.scheduler.inFlight(), 0);
    assert.equal(h.clock.pending(), 0);
    await h.clock.advance(600_000);
    assert.equal(h.calls.length, 2, 'nothing runs after stop, the queued run never started');
  });

  it('stop() with runs that ignore the abort resolves once their slots are reclaimed', async () => {
    const h = harness({ deaf: 'ignore-abort' }, { abandonAfterMs: 1_000 });
    h.scheduler.setJobs([makeJob('deaf')]);
    await h.clock.advance(60_000);
    let stopped = false;
    const stopping = h.scheduler.stop({ graceMs: 500 }).then(() => void (stopped = true));
    await h.clock.advance(1_499);
    assert.equal(stopped, false);
    await h.clock.advance(1);
    await stopping;
    assert.equal(h.clock.pending(), 0);
    h.calls[0]?.finish();
    await h.clock.advance(0);
    assert.equal(h.results.length, 0);
  });

  it('stop() with nothing in flight resolves at once', async () => {
    const h = harness({});
    h.scheduler.setJobs([makeJob('idle')]);
    await h.scheduler.stop({ graceMs: 10_000 });
    assert.equal(h.clock.pending(), 0);
  });
});
