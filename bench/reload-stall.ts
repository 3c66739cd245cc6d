/**
 * What a config reload costs the rest of the daemon: the worst /-/healthy latency (a
 * request every 10 ms) while the daemon reloads a file of N jobs, against the same poller
 * on the idle daemon. The jobs probe a closed loopback port (cheap, refused at once).
 * Prints figures, asserts nothing. Run after building:
 *   node dist/bench/reload-stall.js [jobs, default 10000] [reloads, default 3]
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedPort, freePort } from '../test/fixtures/ports.js';
import { MAIN_JS } from '../test/helpers/spawn.js';

const JOBS = Number(process.argv[2] ?? 10_000);
const RELOADS = Number(process.argv[3] ?? 3);

/** Four accounts per target, one per line, as a large installation writes them. */
function fleet(jobs: number, port: number): string {
  const lines = ['defaults:', '  tls: none', '  interval: 60s', 'targets:'];
  for (let t = 0; t < jobs / 4; t++) {
    lines.push(`  - name: target-${t}`, '    host: 127.0.0.1', `    port: ${port}`, '    accounts:');
    for (let a = 0; a < 4; a++) lines.push(`      - { username: user${a}@example.com, password_env: BENCH_PASSWORD, allow_plaintext_auth: true }`);
  }
  return `${lines.join('\n')}\n`;
}

/** The slowest /-/healthy answer over `ms`. */
async function worstHealthy(url: string, ms: number): Promise<number> {
  let worst = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const started = performance.now();
    await fetch(`${url}/-/healthy`, { signal: AbortSignal.timeout(30_000) });
    worst = Math.max(worst, performance.now() - started);
    await sleep(10);
  }
  return worst;
}

const dir = await mkdtemp(join(tmpdir(), 'imap-exporter-reload-bench-'));
const config = join(dir, 'fleet.yaml');
await writeFile(config, fleet(JOBS, await closedPort()));
const port = await freePort();
const daemon = spawn(process.execPath, [MAIN_JS, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], {
  env: { ...process.env, BENCH_PASSWORD: 'bench' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const url = `http://127.0.0.1:${port}`;
try {
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    if (ready) break;
    await sleep(100);
  }
  await sleep(2000); // past the start-up work
  const idle = await worstHealthy(url, 3000);
  const during: number[] = [];
  for (let i = 0; i < RELOADS; i++) {
    await appendFile(config, `# change ${i}\n`); // a new checksum: the whole file is loaded and swapped
    const watching = worstHealthy(url, 8000);
    daemon.kill('SIGHUP');
    during.push(await watching);
  }
  console.log(`node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${JOBS} jobs (${(fleet(JOBS, 1).length / 2 ** 20).toFixed(1)} MiB of YAML): worst /-/healthy latency idle ${idle.toFixed(0)} ms; ` +
    `during each reload ${during.map((ms) => ms.toFixed(0)).join(', ')} ms`);
} finally {
  daemon.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
