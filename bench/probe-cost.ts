/**
 * What one probe costs the exporter, against a real Dovecot on loopback (started by
 * the test fixture, so run as root with dovecot-imapd installed). Prints CPU
 * milliseconds per probe (this process only: Dovecot's work is not counted),
 * throughput and memory, for unauthenticated STARTTLS probes and for full login
 * probes, and what that means for 1,000 jobs at a 60 s interval. Asserts nothing.
 *   npm run build && node --expose-gc dist/bench/probe-cost.js [probes]
 */
import { performance } from 'node:perf_hooks';
import { runProbe } from '../src/probe/run-probe.js';
import type { ProbeSpec } from '../src/probe/types.js';
import { loginAccount } from '../test/helpers/jobs.js';
import { startDovecot, type DovecotServer } from '../test/fixtures/dovecot.js';

const PROBES = Number(process.argv[2] ?? 400);
// Below Dovecot's mail_max_userip_connections (10), which would refuse the logins beyond it.
const CONCURRENCY = 8;

async function measure(name: string, spec: ProbeSpec): Promise<void> {
  for (let i = 0; i < 20; i++) await runProbe(spec); // warm up the JIT and Dovecot's login processes
  (globalThis as { gc?: () => void }).gc?.();
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  const durations: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PROBES) {
        next++;
        const result = await runProbe(spec);
        if (!result.success) failed++;
        durations.push(result.durationSeconds * 1000);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerProbe = (cpu.user + cpu.system) / 1000 / PROBES;
  durations.sort((a, b) => a - b);
  const p = (q: number) => durations[Math.floor(q * (durations.length - 1))]!.toFixed(1);
  // 1,000 jobs every 60 s = 16.7 probes/s; CPU ms per second of wall time = millicores.
  const millicores = (1000 / 60) * cpuMsPerProbe;
  console.log(
    `${name}: ${PROBES} probes (${failed} failed), ${(PROBES / (wallMs / 1000)).toFixed(0)} probes/s at concurrency ${CONCURRENCY}, ` +
      `CPU ${cpuMsPerProbe.toFixed(2)} ms/probe, probe time p50 ${p(0.5)} ms p90 ${p(0.9)} ms; ` +
      `1,000 jobs/60 s ≈ ${millicores.toFixed(0)} millicores`,
  );
}

const dovecot: DovecotServer = await startDovecot();
try {
  const base: ProbeSpec = {
    target: 'bench',
    host: dovecot.imap.host,
    port: dovecot.imap.port,
    tls: 'starttls',
    tlsConfig: { caFile: dovecot.caFile, insecureSkipVerify: false },
    timeoutMs: 10_000,
  };
  console.log(`node ${process.version}, Dovecot on loopback, exporter-side CPU only`);
  await measure('unauthenticated STARTTLS', base);
  await measure('login probe (STARTTLS, LOGIN, SELECT, LIST x2)', {
    ...base,
    account: loginAccount('alice', dovecot.accounts.alice),
  });
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  console.log(`after the runs: rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(memory.heapUsed / 2 ** 20).toFixed(1)} MiB`);
} finally {
  await dovecot.stop();
}
