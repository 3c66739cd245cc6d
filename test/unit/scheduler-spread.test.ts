import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProbeJob, ProbeResult } from '../../src/probe/types.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { keyHash, nextAlignedAt, phaseOffsetMs } from '../../src/scheduler/spread.js';
import { FakeClock } from '../fakes/fake-clock.js';

const START = Date.UTC(2025, 0, 1, 9, 17, 23, 456);
const MINUTE = 60_000;

function makeJob(key: string, intervalMs = MINUTE): ProbeJob {
  return {
    key,
    target: key,
    intervalMs,
    spec: { target: key, host: 'imap.test', port: 993, tls: 'tls', tlsConfig: { insecureSkipVerify: false }, timeoutMs: 10_000 },
  };
}

const KEYS = Array.from({ length: 1_000 }, (_, i) => `mail-${i}.example.org/monitor`);

function instantResult(job: ProbeJob, at: number): Promise<ProbeResult> {
  return Promise.resolve({
    target: job.target,
    success: true,
    startedAt: at,
    endedAt: at,
    durationSeconds: 0,
    stages: [],
    facts: { lists: [] },
    transcript: [],
  });
}

interface Call {
  key: string;
  at: number;
  mono: number;
}

function startScheduler(clock: FakeClock, calls: Call[] = []): Scheduler {
  return new Scheduler({
    clock,
    concurrency: 10_000,
    runProbe: (job) => {
      calls.push({ key: job.key, at: clock.now(), mono: clock.monotonicMs() });
      return instantResult(job, clock.now());
    },
    onResult: () => {},
  });
}

function maxPerBucket(times: number[], bucketMs: number): number {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(Math.floor(t / bucketMs), (counts.get(Math.floor(t / bucketMs)) ?? 0) + 1);
  return Math.max(...counts.values());
}

describe('run spread', () => {
  it('aligns to the next slot of the job phase', () => {
    assert.equal(nextAlignedAt(1_000, 250, 1_000), 1_250);
    assert.equal(nextAlignedAt(1_250, 250, 1_000), 1_250);
    assert.equal(nextAlignedAt(1_251, 250, 1_000), 2_250);
    assert.equal(nextAlignedAt(-10, 0, 1_000), 0);
    assert.equal(phaseOffsetMs('a', 60_000), keyHash('a') % 60_000);
    assert.equal(keyHash('mail-1.example.org/monitor'), keyHash('mail-1.example.org/monitor'));
  });

  it('spreads the first runs of 1,000 jobs across a 60 s interval', () => {
    const clock = new FakeClock(START);
    const scheduler = startScheduler(clock);
    scheduler.setJobs(KEYS.map((k) => makeJob(k)));
    const firstRuns = KEYS.map((k) => scheduler.nextRunAt(k) as number);
    assert.ok(firstRuns.every((t) => t >= START && t < START + MINUTE));
    // A hash spreads like chance: 1.7 per 100 ms on average, the fullest bucket 6 here.
    assert.ok(maxPerBucket(firstRuns, 100) <= 8, `max per 100 ms: ${maxPerBucket(firstRuns, 100)}`);
    assert.ok(maxPerBucket(firstRuns, 1_000) <= 35, `max per 1 s: ${maxPerBucket(firstRuns, 1_000)}`);
    assert.equal(new Set(firstRuns.map((t) => Math.floor((t - START) / 1_000))).size, 60, 'every second has runs');
    void scheduler.stop({ graceMs: 0 });
  });

  it('keeps every phase across restarts at different times', () => {
    const first = startScheduler(new FakeClock(START));
    const later = new FakeClock(START + 3 * 3_600_000 + 7_777);
    const second = startScheduler(later);
    first.setJobs(KEYS.map((k) => makeJob(k)));
    second.setJobs(KEYS.map((k) => makeJob(k)));
    for (const key of KEYS) {
      const a = first.nextRunAt(key) as number;
      const b = second.nextRunAt(key) as number;
      assert.equal((b - a) % MINUTE, 0, key);
      assert.ok(b >= later.now() && b < later.now() + MINUTE);
    }
    void first.stop({ graceMs: 0 });
    void second.stop({ graceMs: 0 });
  });

  it('fires each first run at its time, not in one burst', async () => {
    const clock = new FakeClock(START);
    const calls: Call[] = [];
    const scheduler = startScheduler(clock, calls);
    scheduler.setJobs(KEYS.map((k) => makeJob(k)));
    const expected = new Map(KEYS.map((k) => [k, scheduler.nextRunAt(k)]));
    await clock.advance(MINUTE - 1);
    assert.equal(calls.length, KEYS.length);
    for (const call of calls) assert.equal(call.at, expected.get(call.key));
    assert.ok(maxPerBucket(calls.map((c) => c.at), 1) <= 3);
    await clock.advance(MINUTE);
    assert.equal(calls.length, 2 * KEYS.length);
    await scheduler.stop({ graceMs: 0 });
    assert.equal(clock.pending(), 0);
  });

  it('rides out wall-clock steps: no hour-long pause, no replay of missed runs', async () => {
    const clock = new FakeClock(START);
    const calls: Call[] = [];
    const scheduler = startScheduler(clock, calls);
    scheduler.setJobs([makeJob('a')]);
    await clock.advance(MINUTE);
    assert.equal(calls.length, 1);

    clock.stepWall(-3_600_000);
    await clock.advance(MINUTE);
    assert.equal(calls.length, 2, 'ran on its monotonic timer, no hour-long pause');
    const realigned = scheduler.nextRunAt('a') as number;
    assert.ok(realigned - clock.now() > 0 && realigned - clock.now() < 2 * MINUTE);
    assert.equal((realigned - phaseOffsetMs('a', MINUTE)) % MINUTE, 0, 'realigned to its phase');
    await clock.advanceTo(realigned);
    assert.equal(calls.length, 3);

    clock.stepWall(3_600_000);
    await clock.advanceTo(clock.nextTimerAt() as number);
    assert.equal(calls.length, 4, 'one run after the step forward, not sixty');
    const next = scheduler.nextRunAt('a') as number;
    assert.ok(next - clock.now() >= MINUTE && next - clock.now() < 2 * MINUTE);
    await clock.advance(5 * MINUTE);
    assert.ok(calls.length >= 8);
    const gaps = calls.slice(1).map((c, i) => c.mono - (calls[i] as Call).mono);
    assert.ok(gaps.every((gap) => gap >= MINUTE && gap < 2 * MINUTE), `gaps ${gaps.join(', ')}`);
    await scheduler.stop({ graceMs: 0 });
  });
});
