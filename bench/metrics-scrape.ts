/**
 * How long a /metrics scrape takes and how big it is, for 1,000 and 5,000 jobs.
 * Prints figures, asserts nothing. Run after building:
 *   npx tsc -p tsconfig.json --outDir .tmp/dist-metrics
 *   node --expose-gc .tmp/dist-metrics/bench/metrics-scrape.js [runs]
 *
 * Shape: each target has one unauthenticated job and three accounts; results are a
 * STARTTLS probe through every stage (12 capabilities, 2 LIST patterns, a mailbox, a
 * 20-line transcript), one job in ten failing at login instead.
 */
import { performance } from 'node:perf_hooks';
import { createMetricsRegistry } from '../src/metrics/collector.js';
import { ResultStore } from '../src/scheduler/results.js';
import { makeJobs, makeResult, median } from '../test/fixtures/sample-results.js';

const RUNS = Number(process.argv[2] ?? 21);

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function bench(jobCount: number): Promise<void> {
  const jobs = makeJobs(jobCount);
  const heapBefore = heapUsed();
  const results = new ResultStore();
  const registry = createMetricsRegistry({
    results,
    jobs: () => jobs,
    buildInfo: { version: 'bench', nodeVersion: process.version },
    reloadState: () => ({ lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1_760_000_000 }),
  });
  // Ten scheduled runs per job, so counters, the last failure and the histogram are filled.
  for (let run = 0; run < 10; run += 1) jobs.forEach((job, i) => results.record(job, makeResult(job, run, i)));
  const heapPerJob = (heapUsed() - heapBefore) / jobCount;

  const times: number[] = [];
  let text = '';
  for (let run = 0; run < RUNS + 3; run += 1) {
    const start = performance.now();
    text = await registry.metrics();
    if (run >= 3) times.push(performance.now() - start); // the first scrapes warm the JIT
  }
  const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  console.log(
    `${String(jobCount).padStart(5)} jobs (${new Set(jobs.map((j) => j.target)).size} targets): ` +
      `scrape median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}) over ${RUNS} runs, ` +
      `${(Buffer.byteLength(text) / 1024 / 1024).toFixed(2)} MiB, ${series} series` +
      ((globalThis as { gc?: unknown }).gc ? `, store + histogram heap ≈ ${(heapPerJob / 1024).toFixed(1)} KiB/job` : ''),
  );
}

console.log(`node ${process.version}, registry.metrics(): our families written as text, prom-client's default process metrics after them`);
for (const count of [1_000, 5_000]) await bench(count);
