// Prints how the scheduler spreads first runs, and what it costs per dispatch. Asserts nothing.
// Run: npx tsc -p tsconfig.json --outDir .tmp/dist-sched && node .tmp/dist-sched/bench/scheduler-spread.js
import { performance } from 'node:perf_hooks';
import type { ProbeJob, ProbeResult } from '../src/probe/types.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { phaseOffsetMs } from '../src/scheduler/spread.js';
import { FakeClock } from '../test/fakes/fake-clock.js';

const INTERVAL_MS = 60_000;
const START = Date.UTC(2025, 0, 1, 9, 17, 23, 456);

function makeJobs(n: number): ProbeJob[] {
  return Array.from({ length: n }, (_, i) => {
    const key = `mail-${i}.example.org/monitor`;
    return {
      key,
      target: `mail-${i}.example.org`,
      account: 'monitor',
      intervalMs: INTERVAL_MS,
      spec: { target: key, host: 'imap.test', port: 993, tls: 'tls', tlsConfig: { insecureSkipVerify: false }, timeoutMs: 10_000 },
    };
  });
}

function bucketStats(offsets: number[], bucketMs: number): string {
  const counts = new Array<number>(Math.ceil(INTERVAL_MS / bucketMs)).fill(0);
  for (const offset of offsets) counts[Math.floor(offset / bucketMs)] = (counts[Math.floor(offset / bucketMs)] ?? 0) + 1;
  const mean = offsets.length / counts.length;
  return `max ${Math.max(...counts)}, mean ${mean.toFixed(2)}, min ${Math.min(...counts)}, empty ${counts.filter((c) => c === 0).length}`;
}

function printSpread(n: number): void {
  const clock = new FakeClock(START);
  const scheduler = new Scheduler({ clock, concurrency: 1, runProbe: noop, onResult: () => {} });
  const jobs = makeJobs(n);
  const t0 = performance.now();
  scheduler.setJobs(jobs);
  const setJobsMs = performance.now() - t0;
  // The phase within the interval, as the scheduler armed it (cross-checked against the hash).
  const phases = jobs.map((job) => {
    const phase = (((scheduler.nextRunAt(job.key) as number) % INTERVAL_MS) + INTERVAL_MS) % INTERVAL_MS;
    if (phase !== phaseOffsetMs(job.key, INTERVAL_MS)) throw new Error(`phase mismatch for ${job.key}`);
    return phase;
  });
  const t1 = performance.now();
  scheduler.setJobs(jobs);
  const reloadMs = performance.now() - t1;
  console.log(`${n} jobs, ${INTERVAL_MS / 1000} s interval: first-run offsets`);
  console.log(`  per 100 ms bucket: ${bucketStats(phases, 100)}`);
  console.log(`  per 1 s bucket:    ${bucketStats(phases, 1_000)}`);
  console.log(`  setJobs (initial): ${setJobsMs.toFixed(1)} ms; setJobs (unchanged reload): ${reloadMs.toFixed(1)} ms`);
  void scheduler.stop({ graceMs: 0 });
}

function noop(job: ProbeJob): Promise<ProbeResult> {
  return Promise.resolve({
    target: job.target,
    account: job.account,
    success: true,
    startedAt: 0,
    endedAt: 0,
    durationSeconds: 0,
    stages: [],
    facts: { lists: [] },
    transcript: [],
  });
}

/** Wall ms for one interval of 10,000 dispatches through the scheduler, and for the fake clock alone. */
async function measureOverhead(rounds: number): Promise<void> {
  const n = 10_000;
  const clock = new FakeClock(START);
  let delivered = 0;
  const scheduler = new Scheduler({ clock, concurrency: 64, runProbe: noop, onResult: () => void (delivered += 1) });
  scheduler.setJobs(makeJobs(n));

  const baseline = new FakeClock(START);
  const rearm = (offset: number): void => void baseline.setTimeout(() => rearm(offset), INTERVAL_MS);
  for (const job of makeJobs(n)) baseline.setTimeout(() => rearm(0), phaseOffsetMs(job.key, INTERVAL_MS));

  const withScheduler: number[] = [];
  const clockOnly: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    let t = performance.now();
    await clock.advance(INTERVAL_MS);
    withScheduler.push(performance.now() - t);
    t = performance.now();
    await baseline.advance(INTERVAL_MS);
    clockOnly.push(performance.now() - t);
  }
  const stopping = scheduler.stop({ graceMs: 0 });
  await clock.advance(10_000);
  await stopping;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const total = median(withScheduler);
  const base = median(clockOnly);
  console.log(`overhead: ${n} dispatches per round, no-op runProbe, concurrency 64, fake clock, median of ${rounds} rounds`);
  console.log(`  fake clock + scheduler: ${total.toFixed(1)} ms per 10,000 dispatches`);
  console.log(`  fake clock alone:       ${base.toFixed(1)} ms per 10,000 timer firings (setImmediate flush after each)`);
  console.log(`  scheduler's own share:  ${(total - base).toFixed(1)} ms per 10,000 dispatches (${(((total - base) / n) * 1000).toFixed(1)} µs each)`);
  console.log(`  results delivered: ${delivered} (expected ${n * rounds})`);
}

printSpread(1_000);
printSpread(10_000);
await measureOverhead(5);
