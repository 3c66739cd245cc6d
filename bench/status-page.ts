/**
 * How long the status page takes to render and how big it is, for 1,000 and 5,000
 * jobs with realistic results. Prints figures, asserts nothing. Run after building:
 *   npm run build && node dist/bench/status-page.js [runs]
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { renderStatusPage } from '../src/http/status-page.js';
import { ResultStore } from '../src/scheduler/results.js';
import { makeJobs, makeResult, median } from '../test/fixtures/sample-results.js';

const RUNS = Number(process.argv[2] ?? 21);

function bench(jobCount: number): void {
  const jobs = makeJobs(jobCount);
  const results = new ResultStore();
  for (let run = 0; run < 3; run += 1) jobs.forEach((job, i) => results.record(job, makeResult(job, run, i)));
  const now = 1_760_000_200_000;
  const times: number[] = [];
  let html = '';
  for (let run = 0; run < RUNS + 3; run += 1) {
    const start = performance.now();
    html = renderStatusPage({
      nowMs: now,
      version: 'bench',
      configPath: 'config/imap-exporter.yaml',
      lastReloadSuccessful: true,
      jobs,
      results: (key) => results.get(key),
      nextRunAt: () => now + 30_000,
    });
    if (run >= 3) times.push(performance.now() - start);
  }
  const kib = (bytes: number) => (bytes / 1024).toFixed(0);
  console.log(
    `${String(jobCount).padStart(5)} jobs: render median ${median(times).toFixed(1)} ms ` +
      `(min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}) over ${RUNS} runs, ` +
      `${kib(Buffer.byteLength(html))} KiB HTML, ${kib(gzipSync(html).length)} KiB gzipped`,
  );
}

console.log(`node ${process.version}, renderStatusPage()`);
for (const count of [1_000, 5_000]) bench(count);
