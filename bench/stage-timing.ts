/**
 * How exact the stage timings are under concurrency: plain-text login probes against a
 * server in another process (bench/delay-imap-server.ts) that delays each stage's
 * answer by 50, 100, 150 or 200 ms and reports the delay it really waited. Per stage,
 * error = (measured − the server's wait) − the same in a run without delays (median),
 * so loopback and parsing costs cancel (A), and without that subtraction (B: an upper
 * bound; at 200 in flight the no-delay probes queue behind each other and the delayed
 * ones do not, so A's subtraction overstates the error). Prints p50/p99/max per stage
 * at 20 and 200 probes in flight. Asserts nothing.
 *   npm run build && node dist/bench/stage-timing.js [probes at 20] [probes at 200] [--in-process]
 * On a machine with more runnable threads than cores, a separate server process is
 * itself starved between a command's arrival and its timer: --in-process keeps both
 * sides on one clock and one loop (the server's work then queues with the probes').
 * --wire (needs tcpdump, run as root) also measures against the packets' kernel
 * timestamps on the loopback interface (C): measured − the time between the packet
 * that starts a stage and the one that ends it, which neither side's loop can delay.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { runProbe } from '../src/probe/run-probe.js';
import type { ProbeResult, ProbeSpec } from '../src/probe/types.js';
import { captureLoopback, type WireConnection } from './wire-times.js';

const SERVER = new URL('./delay-imap-server.js', import.meta.url).pathname;
const STAGES = ['greeting', 'login', 'select', 'list', 'logout'] as const;
type Measured = Record<(typeof STAGES)[number], number[]>;

const IN_PROCESS = process.argv.includes('--in-process');
const WIRE = process.argv.includes('--wire');

async function withServer<T>(delays: string, use: (port: number) => Promise<T>): Promise<T> {
  if (IN_PROCESS) {
    const { startDelayServer } = await import('./delay-imap-server.js');
    const server = await startDelayServer(delays);
    try {
      return await use(server.port);
    } finally {
      await server.close();
    }
  }
  const child = spawn(process.execPath, [SERVER, delays], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  try {
    return await use((JSON.parse(line) as { port: number }).port);
  } finally {
    child.stdin.end();
    await once(child, 'exit');
  }
}

function spec(port: number): ProbeSpec {
  return {
    target: 'bench',
    host: '127.0.0.1',
    port,
    tls: 'none',
    tlsConfig: { insecureSkipVerify: false },
    timeoutMs: 30_000,
    account: {
      name: 'bench',
      username: 'bench',
      auth: 'login',
      allowPlaintextAuth: true,
      mailbox: 'INBOX',
      list: [{ reference: '', pattern: '*' }],
      password: () => Promise.resolve('secret'),
    },
  };
}

/** Measured minus the server's own wait, per stage, in ms. */
function excess(result: ProbeResult, into: Measured): void {
  const waits = result.transcript.filter((e) => e.direction === 'S').map((e) => / d=([\d.]+)$/.exec(e.text)?.[1]).filter((d) => d !== undefined);
  if (!result.success || waits.length !== STAGES.length) throw new Error(`unexpected probe: ${result.failure?.detail ?? `${waits.length} waits`}`);
  STAGES.forEach((stage, i) => into[stage].push(measuredMs(result, stage) - Number(waits[i])));
}

function measuredMs(result: ProbeResult, stage: string): number {
  return (result.stages.find((s) => s.stage === stage)?.durationSeconds ?? NaN) * 1000;
}

/** The client's port, from the transcript's "connected to … from 127.0.0.1:<port>". */
function clientPort(result: ProbeResult): number {
  const note = result.transcript.find((e) => e.direction === '-' && e.text.startsWith('connected to'));
  return Number(/:(\d+)$/.exec(note?.text ?? '')?.[1]);
}

/** Each stage's length on the wire: from the packet that starts it to the one that ends it. */
function wireMs(connection: WireConnection): Record<WireStage, number> {
  const { syn, synAck, client, server } = connection;
  const between = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? NaN : to - from);
  return {
    connect: synAck - syn,
    greeting: between(synAck, server[0]),
    login: between(client[0], server[1]),
    select: between(client[1], server[2]),
    list: between(client[2], server[3]),
    logout: between(client[3], server[4]),
  };
}

const WIRE_STAGES = ['connect', ...STAGES] as const;
type WireStage = (typeof WIRE_STAGES)[number];

/** What --wire needs of a probe, kept instead of the result: holding 2,000 results made the bench's own scavenges take up to 10 ms. */
interface Kept {
  port: number;
  ms: Record<WireStage, number>;
}

function keep(result: ProbeResult): Kept {
  return { port: clientPort(result), ms: Object.fromEntries(WIRE_STAGES.map((stage) => [stage, measuredMs(result, stage)])) as Record<WireStage, number> };
}

/** Measured minus the wire's time, per stage, for the probes whose connection the capture holds once. */
function wireErrors(kept: readonly Kept[], connections: ReadonlyMap<number, WireConnection>): Record<WireStage, number[]> {
  const errors = Object.fromEntries(WIRE_STAGES.map((s) => [s, [] as number[]])) as unknown as Record<WireStage, number[]>;
  for (const probe of kept) {
    const connection = connections.get(probe.port);
    if (!connection) continue;
    const wire = wireMs(connection);
    for (const stage of WIRE_STAGES) {
      const error = probe.ms[stage] - wire[stage];
      if (Number.isFinite(error)) errors[stage].push(error);
    }
  }
  return errors;
}

interface Run {
  measured: Measured;
  /** Measured − wire, per stage; undefined without --wire. */
  wire?: Record<WireStage, number[]>;
  dropped?: string;
}

async function run(delays: string, probes: number, concurrency: number): Promise<Run> {
  return withServer(delays, async (port) => {
    const measured = Object.fromEntries(STAGES.map((s) => [s, [] as number[]])) as unknown as Measured;
    const capture = WIRE ? await captureLoopback(port) : undefined;
    const kept: Kept[] = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (started < probes) {
          started += 1;
          const result = await runProbe(spec(port));
          excess(result, measured);
          if (capture) kept.push(keep(result));
        }
      }),
    );
    if (!capture) return { measured };
    const { connections, dropped } = await capture.stop();
    return { measured, wire: wireErrors(kept, connections), dropped };
  });
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function bench(concurrency: number, probes: number): Promise<void> {
  const baseline = (await run('0', Math.max(concurrency * 3, probes / 4), concurrency)).measured;
  const delayedRun = await run('50,100,150,200', probes, concurrency);
  const delayed = delayedRun.measured;
  console.log(`\n${concurrency} probes in flight, ${probes} probes; error per stage in ms:`);
  console.log("  A: measured − server's wait − no-delay median; B: measured − server's wait (loopback and both sides' work included: an upper bound)");
  console.log('stage      A p50   A p99   A max   (baseline median)   B p50   B p99   B max');
  const column = (value: number, width: number) => value.toFixed(2).padStart(width);
  for (const stage of STAGES) {
    const base = quantile([...baseline[stage]].sort((a, b) => a - b), 0.5);
    const errors = delayed[stage].map((e) => e - base).sort((a, b) => a - b);
    const abs = errors.map(Math.abs).sort((a, b) => a - b);
    const raw = [...delayed[stage]].sort((a, b) => a - b);
    console.log(
      `${stage.padEnd(9)} ${column(quantile(errors, 0.5), 6)} ${column(quantile(abs, 0.99), 7)} ${column(abs.at(-1) ?? NaN, 7)}   (${column(base, 6)})` +
        `          ${column(quantile(raw, 0.5), 6)} ${column(quantile(raw, 0.99), 7)} ${column(raw.at(-1) ?? NaN, 7)}`,
    );
  }
  if (delayedRun.wire) printWire(delayedRun, column);
}

function printWire(run: Run, column: (value: number, width: number) => string): void {
  console.log(`  C: measured − time on the wire (tcpdump's kernel timestamps), ${run.wire?.logout.length} of the probes${run.dropped ? `; tcpdump: ${run.dropped}` : ''}`);
  console.log('stage      C p50   C p99   C max   C min');
  for (const stage of WIRE_STAGES) {
    const errors = [...(run.wire?.[stage] ?? [])].sort((a, b) => a - b);
    const abs = errors.map(Math.abs).sort((a, b) => a - b);
    console.log(`${stage.padEnd(9)} ${column(quantile(errors, 0.5), 6)} ${column(quantile(abs, 0.99), 7)} ${column(abs.at(-1) ?? NaN, 7)} ${column(errors[0] ?? NaN, 7)}`);
  }
}

console.log(`node ${process.version}; p99 and max are of the absolute error`);
const [at20 = '400', at200 = '2000'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
console.log(IN_PROCESS ? 'server in this process (its work shares the event loop)' : 'server in its own process');
await bench(20, Number(at20));
await bench(200, Number(at200));
