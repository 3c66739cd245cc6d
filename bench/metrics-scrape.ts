/**
 * What a /metrics scrape costs at 1,000, 10,000 and 20,000 jobs: wall and CPU time of
 * the streamed render, the longest the event loop was held during it, the body plain
 * and gzipped (level 1, as served), and RSS. "steady" is a scrape after a quarter of
 * the jobs got a new result (a 15 s scrape of 60 s probes: the next quarter of the
 * order they were recorded in, as a schedule repeats). Prints figures, asserts
 * nothing. Run after building:
 *   node --expose-gc dist/bench/metrics-scrape.js [runs] [job counts, comma-separated]
 *
 * Shape: each target has one unauthenticated job and three accounts; results are a
 * STARTTLS probe through every stage (12 capabilities, 2 LIST patterns, a mailbox, a
 * 20-line transcript), one job in ten failing at login instead. Results are recorded in
 * a shuffled order, as a spread schedule records them, not in the config's.
 */
import { performance } from 'node:perf_hooks';
import { BackgroundGzip } from '../src/http/gzip-stream.js';
import { createMetricsRegistry } from '../src/metrics/collector.js';
import type { ChunkSink, DeflateSink, TextRegistry } from '../src/metrics/exposition.js';
import type { ProbeJob } from '../src/probe/types.js';
import { ResultStore } from '../src/scheduler/results.js';
import { makeJobs, makeResult, median } from '../test/fixtures/sample-results.js';

const RUNS = Number(process.argv[2] ?? 7);
const COUNTS = (process.argv[3] ?? '1000,10000,20000').split(',').map(Number);
/** As the daemon gzips /metrics: on its own thread, at nice 10. */
const GZIP = new BackgroundGzip(1);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

interface Scrape {
  wallMs: number;
  cpuMs: number;
  longestHoldMs: number;
  bytes: number;
  gzipBytes: number;
}

/** One render into a gzip stream (the daemon's, on its thread) that counts bytes (or, `plain`, straight into a counter), with a 1 ms timer watching the event loop. */
async function scrape(registry: TextRegistry, plain = false): Promise<Scrape> {
  let longestHoldMs = 0;
  let last = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    longestHoldMs = Math.max(longestHoldMs, now - last);
    last = now;
  }, 1);
  let gzipBytes = 0;
  const gzipped = GZIP.sink({ write: (chunk) => ((gzipBytes += chunk.length), true), drained: () => Promise.resolve() });
  let bytes = 0;
  const deflate: DeflateSink = {
    level: gzipped.deflate.level,
    background: GZIP.background,
    writeDeflated: (piece) => ((bytes += piece.length), gzipped.deflate.writeDeflated(piece)),
    writeSegment: (text, keep) => ((bytes += text.length), gzipped.deflate.writeSegment(text, keep)),
  };
  const sink: ChunkSink = {
    write: (chunk) => {
      bytes += chunk.length;
      return plain || gzipped.write(chunk);
    },
    drained: () => gzipped.drained(),
    ...(plain ? {} : { deflate }),
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await registry.writeTo(sink);
  if (plain) gzipped.abort();
  else await gzipped.finish();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  clearInterval(watch);
  return { wallMs, cpuMs: (used.user + used.system) / 1000, longestHoldMs, bytes, gzipBytes };
}

/** 0 … count - 1 in an order that is the same from run to run (a linear congruential generator's Fisher-Yates shuffle). */
function shuffled(count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  let seed = 12_345;
  for (let i = count - 1; i > 0; i -= 1) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

function summary(label: string, scrapes: Scrape[]): string {
  const m = (pick: (s: Scrape) => number): string => median(scrapes.map(pick)).toFixed(0);
  const worst = Math.max(...scrapes.map((s) => s.longestHoldMs)).toFixed(0);
  return `  ${label}: wall ${m((s) => s.wallMs)} ms, CPU of all threads ${m((s) => s.cpuMs)} ms (medians of ${scrapes.length}), event loop held at most ${worst} ms`;
}

async function bench(jobCount: number): Promise<void> {
  const jobs = makeJobs(jobCount);
  const results = new ResultStore();
  const registry = createMetricsRegistry({
    results,
    jobs: () => jobs,
    buildInfo: { version: 'bench', nodeVersion: process.version },
    reloadState: () => ({ lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1_760_000_000 }),
  });
  // Ten scheduled runs per job, so counters, the last failure and the histogram are filled.
  // In a shuffled order, as the daemon's spread start records them: not the config's.
  const order = shuffled(jobs.length);
  for (let run = 0; run < 10; run += 1) for (const i of order) results.record(jobs[i] as ProbeJob, makeResult(jobs[i] as ProbeJob, run, i));
  (globalThis as { gc?: () => void }).gc?.();
  const unchanged: Scrape[] = [];
  const steady: Scrape[] = [];
  const plain: Scrape[] = [];
  const between: { wallMs: number; cpuMs: number }[] = [];
  let peakRss = 0;
  await scrape(registry); // the first scrape writes the histogram's text
  for (let run = 0; run < RUNS; run += 1) {
    plain.push(await scrape(registry, true));
    unchanged.push(await scrape(registry));
    // The next quarter of the schedule: a spread schedule repeats, so it replaces results in the order it recorded them.
    const quarter = Math.ceil(order.length / 4);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (const i of order.slice((run % 4) * quarter, (run % 4 + 1) * quarter)) results.record(jobs[i] as ProbeJob, makeResult(jobs[i] as ProbeJob, 10 + run, i));
    await GZIP.background.idle(); // what the gzip thread compresses as results come, between scrapes
    const used = process.cpuUsage(cpu);
    between.push({ wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 });
    steady.push(await scrape(registry));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const last = steady.at(-1) as Scrape;
  console.log(
    `${jobCount} jobs (${new Set(jobs.map((j) => j.target)).size} targets): ${mib(last.bytes)} MiB, ${mib(last.gzipBytes)} MiB gzipped; ` +
      `RSS after the runs ${mib(process.memoryUsage().rss)} MiB, peak seen ${mib(peakRss)} MiB (benchmark's own result objects included)`,
  );
  console.log(summary('no gzip       ', plain));
  console.log(summary('no new results', unchanged));
  console.log(summary('a quarter new  ', steady));
  const m = (pick: (b: { wallMs: number; cpuMs: number }) => number): string => median(between.map(pick)).toFixed(0);
  console.log(`  recording that quarter, and compressing what changed meanwhile: wall ${m((b) => b.wallMs)} ms, CPU of all threads ${m((b) => b.cpuMs)} ms (medians)`);
}

console.log(`node ${process.version}; /metrics streamed (registry.writeTo into gzip level 1 on the gzip thread), prom-client's process metrics included`);
for (const count of COUNTS) await bench(count);
