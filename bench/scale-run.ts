/**
 * The daemon at scale, as a process: a cheap local IMAP server (scale-imap-server.ts,
 * its own process), the real daemon (dist/src/main.js) with N jobs (N/4 targets × 4
 * accounts, one account in eight failing at login) at a 60 s interval, and this
 * process scraping it and polling /-/healthy every 10 ms from a worker thread. After
 * the first full round of results it reports: RSS steady and peak (VmRSS, VmHWM; the
 * highest sampled during plain scrapes, gzipped ones and neither),
 * daemon CPU per second between scrapes and per scrape (utime+stime), /metrics time
 * and size plain and gzipped, the slowest /-/healthy answer during scrapes and outside
 * them, the daemon's own stall gauge, and how late scheduled probes started
 * (imap_exporter_schedule_lateness_seconds). Prints figures, asserts nothing.
 * The IMAP server and each scrape (scrape-once.js) are processes at `nice` 10 by
 * default: on a 2-core machine they would otherwise take the daemon's CPU, which in a
 * deployment runs beside neither; --harness-nice=0 runs them as equals.
 *   node dist/bench/scale-run.js [10000,20000] [--scrapes=3] [--concurrency=256] [--harness-nice=10]
 * SCALE_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to the daemon's node,
 * SCALE_DAEMON_ARGS (e.g. "--log.level=info") to the daemon. The daemon sets V8's heap growing
 * factor itself (src/heap-growth.ts); SCALE_NODE_ARGS="--heap-growing-percent=0" gives V8's own back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { freePort } from '../test/fixtures/ports.js';
import { MAIN_JS } from '../test/helpers/spawn.js';

const INTERVAL_S = 60;
const QUIET_MS = 15_000; // the window without scrapes that "between scrapes" is measured over
const GAP_MS = 5_000; // between two measured scrapes

const flag = (name: string, fallback: number): number => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
};
const COUNTS = (process.argv.slice(2).find((a) => !a.startsWith('--')) ?? '10000,20000').split(',').map(Number);
const SCRAPES = flag('scrapes', 3);
const CONCURRENCY = flag('concurrency', 256);
const HARNESS_NICE = flag('harness-nice', 10);
const NODE_ARGS = (process.env.SCALE_NODE_ARGS ?? '').split(' ').filter(Boolean);
const DAEMON_ARGS = (process.env.SCALE_DAEMON_ARGS ?? '').split(' ').filter(Boolean);

const epochMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

/** utime+stime of a process in ms (clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The process's CPU ms per second of wall time over the next `ms`. */
async function cpuPerSecond(pid: number, ms: number): Promise<number> {
  const start = epochMs();
  const before = await cpuMs(pid);
  await sleep(ms);
  return ((await cpuMs(pid)) - before) / ((epochMs() - start) / 1000);
}

/** VmRSS and VmHWM in bytes. */
async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

interface Scrape {
  gzip: boolean;
  start: number;
  /** The body's last byte came. */
  received: number;
  /** Its text was all read (out of gunzip, for gzip). */
  end: number;
  bytes: number;
  /** Uncompressed characters seen (equal to bytes for plain). */
  textBytes: number;
  cpuMs: number;
  tail: string;
}

/** Runs `script` with node at the harness's CPU priority (`nice`, inherited by all its threads). */
function spawnHarness(script: string, args: string[], stdio: ('pipe' | 'inherit')[]): ChildProcess {
  const node = [process.execPath, fileURLToPath(new URL(script, import.meta.url)), ...args];
  return HARNESS_NICE === 0 ? spawn(node[0] as string, node.slice(1), { stdio }) : spawn('nice', ['-n', String(HARNESS_NICE), ...node], { stdio });
}

/** GET /metrics from a scrape-once.js process, reading as fast as it comes; the last 256 KiB of the text are kept. */
async function scrape(url: string, pid: number, gzip: boolean): Promise<Scrape> {
  const child = spawnHarness('./scrape-once.js', gzip ? [url, 'gzip'] : [url], ['pipe', 'pipe', 'inherit']);
  // Listened for from the start: the child may exit while the CPU is read below, and a later once() would wait forever (it did, once).
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  if ((await lines.next()).value !== 'ready') throw new Error('scrape-once.js did not start');
  const cpuBefore = await cpuMs(pid);
  child.stdin!.write('go\n');
  const { value } = await lines.next();
  const cpuAfter = await cpuMs(pid);
  await exited;
  if (typeof value !== 'string') throw new Error(`scrape-once.js exited (${child.exitCode}) without a result`);
  const { start, received, end, bytes, textBytes, tail } = JSON.parse(value) as Omit<Scrape, 'gzip' | 'cpuMs'>;
  return { gzip, start, received, end, bytes, textBytes, cpuMs: cpuAfter - cpuBefore, tail };
}

/** A sample's value from the text (unlabelled, or with exactly these labels as written). */
function sampleValue(text: string, series: string): number | undefined {
  const at = text.lastIndexOf(`\n${series} `);
  if (at < 0) return undefined;
  return Number(text.slice(at + series.length + 2, text.indexOf('\n', at + 1)));
}

/** The lateness histogram's cumulative buckets, by `le`. */
function latenessBuckets(text: string): Map<string, number> {
  const buckets = new Map<string, number>();
  for (const match of text.matchAll(/^imap_exporter_schedule_lateness_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) {
    buckets.set(match[1] as string, Number(match[2]));
  }
  return buckets;
}

/** "p50 ≤ x, p99 ≤ y, max ≤ z" from the difference of two cumulative histograms. */
function latenessSummary(before: Map<string, number>, after: Map<string, number>): string {
  const les = [...after.keys()];
  const counts = les.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return 'no starts';
  const bound = (q: number): string => {
    const i = counts.findIndex((c) => c >= q * total);
    const le = les[i] as string;
    return le === '+Inf' ? `> ${les.at(-2)} s` : `≤ ${Number(le) * 1000} ms`;
  };
  const over50 = total - (counts[les.indexOf('0.05')] ?? 0);
  return `${total} starts: p50 ${bound(0.5)}, p99 ${bound(0.99)}, max ${bound(1)}; ${over50} (${((100 * over50) / total).toFixed(1)} %) later than 50 ms`;
}

function configYaml(jobs: number, imapPort: number, dir: string): string {
  const lines = [
    'defaults:',
    `  interval: ${INTERVAL_S}s`,
    '  timeout: 10s',
    '  tls: none',
    '  allow_plaintext_auth: true',
    "  list: ['*', '#shared.*']",
    'targets:',
  ];
  for (let t = 0; t * 4 < jobs; t += 1) {
    lines.push(`  - name: imap-${t}.example.net`, '    host: 127.0.0.1', `    port: ${imapPort}`, '    accounts:');
    for (let a = 0; a < 4 && t * 4 + a < jobs; a += 1) {
      const wrong = a === 3 && t % 2 === 0; // one account in eight fails at login
      lines.push(`      - username: probe-${'abcd'[a]}`, `        password_file: ${join(dir, wrong ? 'wrong' : 'pw')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

async function startImapServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnHarness('./scale-imap-server.js', [], ['pipe', 'pipe', 'inherit']);
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

async function waitHealthy(url: string, daemon: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited (${daemon.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      get(`${url}/-/ready`, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error('the daemon was not ready within 60 s');
}

interface Poll {
  sentAt: number;
  latencyMs: number;
}

function pollSummary(polls: Poll[]): string {
  if (polls.length === 0) return 'no requests';
  const sorted = polls.map((p) => p.latencyMs).sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return `${polls.length} requests, p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${(sorted.at(-1) as number).toFixed(0)} ms`;
}

async function run(jobs: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'scale-run-'));
  await writeFile(join(dir, 'pw'), 'pw\n');
  await writeFile(join(dir, 'wrong'), 'wrong\n');
  const imap = await startImapServer();
  const config = join(dir, 'exporter.yaml');
  await writeFile(config, configYaml(jobs, imap.port, dir));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(dir, 'daemon.log'));
  const args = [...NODE_ARGS, MAIN_JS, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    `--probe.concurrency=${CONCURRENCY}`, ...DAEMON_ARGS];
  const daemon = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  daemon.stdout!.pipe(log);
  daemon.stderr!.pipe(log);
  const pid = daemon.pid as number;
  const rssSeen: { at: number; rss: number }[] = [];
  const rssTimer = setInterval(() => void memory(pid).then((m) => rssSeen.push({ at: epochMs(), rss: m.rss }), () => {}), 250);
  try {
    console.log(`\n${jobs} jobs (${Math.ceil(jobs / 4)} targets × 4 accounts, plain IMAP, ${INTERVAL_S} s interval, --probe.concurrency=${CONCURRENCY}); load average ${load()}`);
    console.log(`  the IMAP server and the scraper run at nice ${HARNESS_NICE}, the daemon and the /-/healthy poller at this process's`);
    await waitHealthy(url, daemon);
    const startedAt = epochMs();
    // The first runs spread over one interval; then one scrape that must see every job started.
    await sleep(INTERVAL_S * 1000 + 3000);
    let first = await scrape(url, pid, true);
    while ((sampleValue(first.tail, 'imap_exporter_schedule_lateness_seconds_count') ?? 0) < jobs) {
      await sleep(2000);
      first = await scrape(url, pid, true);
    }
    console.log(`  first full round after ${((first.end - startedAt) / 1000).toFixed(0)} s (jobs: ${sampleValue(first.tail, 'imap_exporter_jobs')})`);
    const latenessFirst = latenessBuckets(first.tail);

    await sleep(GAP_MS);
    const steadyFrom = epochMs();
    const probingMsPerS = await cpuPerSecond(pid, QUIET_MS);
    const steady = await memory(pid);
    const poller = new Worker(fileURLToPath(new URL('./health-poller.js', import.meta.url)), { workerData: { url } });
    const polled = new Promise<[number, number][]>((resolve) => poller.once('message', resolve));
    // The baseline a scrape's CPU is set against: probing and the poller's 100 requests a second.
    const idleMsPerS = await cpuPerSecond(pid, QUIET_MS);

    const scrapes: Scrape[] = [];
    for (let i = 0; i < SCRAPES; i += 1) {
      for (const gzip of [false, true]) {
        scrapes.push(await scrape(url, pid, gzip));
        await sleep(GAP_MS);
      }
    }
    poller.postMessage('stop');
    const polls = (await polled).map(([sentAt, latencyMs]) => ({ sentAt, latencyMs }));
    await poller.terminate(); // its message listener would keep it, and this process, alive
    const last = scrapes.at(-1) as Scrape;
    const peak = await memory(pid);

    // Until the body's last byte: the reader's gunzip after it is no part of the exporter's scrape.
    const overlaps = (p: Poll, s: Scrape): boolean => p.sentAt + p.latencyMs > s.start && p.sentAt < s.received;
    const during = (p: Poll, gzip?: boolean): boolean => scrapes.some((s) => (gzip === undefined || s.gzip === gzip) && overlaps(p, s));
    const table: [string, string][] = [];
    table.push(['RSS steady (after the first round, no scrape yet)', `${mib(steady.rss)} MiB`]);
    table.push(['RSS highest sampled (every 0.25 s) / VmHWM peak', `${mib(Math.max(...rssSeen.map((r) => r.rss)))} / ${mib(peak.hwm)} MiB`]);
    const highest = (seen: { at: number; rss: number }[]): string => (seen.length ? mib(Math.max(...seen.map((r) => r.rss))) : '-');
    const inScrape = (at: number, gzip: boolean): boolean => scrapes.some((s) => s.gzip === gzip && at >= s.start && at <= s.received + 250);
    const afterFirst = rssSeen.filter((r) => r.at >= steadyFrom);
    table.push([
      'RSS highest during plain / gzip scrapes / neither, from the steady point',
      `${highest(afterFirst.filter((r) => inScrape(r.at, false)))} / ${highest(afterFirst.filter((r) => inScrape(r.at, true)))} / ${highest(afterFirst.filter((r) => !inScrape(r.at, false) && !inScrape(r.at, true)))} MiB`,
    ]);
    const spaces = ['new', 'old', 'large_object', 'code'].map(
      (space) => `${space} ${mib(sampleValue(last.tail, `nodejs_heap_space_size_total_bytes{space="${space}"}`) ?? NaN)}`,
    );
    table.push(['heap spaces after the scrapes, size (prom-client)', `${spaces.join(', ')} MiB`]);
    table.push(['heap used / external after the scrapes (prom-client)', `${mib(sampleValue(last.tail, 'nodejs_heap_size_used_bytes') ?? NaN)} / ${mib(sampleValue(last.tail, 'nodejs_external_memory_bytes') ?? NaN)} MiB`]);
    table.push(['daemon CPU between scrapes: probing / with the poller', `${probingMsPerS.toFixed(0)} / ${idleMsPerS.toFixed(0)} ms/s`]);
    for (const gzip of [false, true]) {
      const mine = scrapes.filter((s) => s.gzip === gzip);
      const walls = mine.map((s) => (s.received - s.start).toFixed(0)).join(', ');
      const reads = mine.map((s) => (s.end - s.start).toFixed(0)).join(', ');
      const cpus = mine.map((s) => `${s.cpuMs} (${Math.max(0, s.cpuMs - idleMsPerS * ((s.end - s.start) / 1000)).toFixed(0)})`).join(', ');
      const kind = gzip ? 'gzip' : 'plain';
      table.push([`/metrics ${kind}: time to last byte`, `${walls} ms`]);
      if (gzip) table.push([`/metrics ${kind}: time to the text gunzipped (the reader's part)`, `${reads} ms`]);
      table.push([`/metrics ${kind}: daemon CPU (less the baseline)`, `${cpus} ms`]);
      table.push([`/metrics ${kind}: size`, `${mib((mine[0] as Scrape).bytes)} MiB${gzip ? ` (${mib((mine[0] as Scrape).textBytes)} MiB text)` : ''}`]);
    }
    table.push(['/-/healthy during scrapes', pollSummary(polls.filter((p) => during(p)))]);
    table.push(['/-/healthy during plain / gzip scrapes', `${pollSummary(polls.filter((p) => during(p, false)))}; ${pollSummary(polls.filter((p) => during(p, true)))}`]);
    table.push(['/-/healthy outside scrapes', pollSummary(polls.filter((p) => !during(p)))]);
    const ms = (tail: string, name: string): string => ((sampleValue(tail, name) ?? NaN) * 1000).toFixed(0);
    const stallOf = (tail: string): string =>
      `${ms(tail, 'imap_exporter_eventloop_stall_seconds')} (${ms(tail, 'imap_exporter_eventloop_stall_cpu_wait_seconds')})`;
    table.push(['daemon stall gauge after each scrape (of it waiting for a CPU)', `${scrapes.map((s) => stallOf(s.tail)).join(', ')} ms`]);
    table.push(['schedule lateness, first round', latenessSummary(new Map(), latenessFirst)]);
    table.push(['schedule lateness, while scraping', latenessSummary(latenessFirst, latenessBuckets(last.tail))]);
    const width = Math.max(...table.map(([k]) => k.length));
    for (const [k, v] of table) console.log(`  ${k.padEnd(width)}  ${v}`);
    console.log(`  load average at the end ${load()}`);
  } finally {
    clearInterval(rssTimer);
    daemon.kill('SIGTERM');
    await once(daemon, 'exit');
    imap.child.stdin!.end();
    await once(imap.child, 'exit');
    if (!NODE_ARGS.length) await rm(dir, { recursive: true, force: true });
    else console.log(`  daemon's files kept in ${dir}`);
  }
}

console.log(`node ${process.version}; daemon ${[...NODE_ARGS, MAIN_JS, ...DAEMON_ARGS].join(' ')}`);
for (const jobs of COUNTS) await run(jobs);
