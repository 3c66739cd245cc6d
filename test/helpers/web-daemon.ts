/**
 * The exporter as a process under --web.config.file, for tests that cannot use startDaemon's
 * plain-HTTP readiness check: waits for the "probe jobs scheduled" log line instead. Its one
 * target points at a closed loopback port, so nothing but the web side matters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closedPort, freePort } from '../fixtures/ports.js';
import { MAIN_JS } from './spawn.js';

export interface WebDaemon {
  port: number;
  child: ChildProcess;
  logs(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Writes a minimal exporter config into `dir` and starts the daemon with `webConfig` (a path). */
export async function startWebDaemon(dir: string, webConfig: string, name = 'exporter'): Promise<WebDaemon> {
  const config = join(dir, `${name}.yaml`);
  await writeFile(config, `defaults:\n  interval: 60s\n  timeout: 2s\ntargets:\n  - name: closed\n    host: 127.0.0.1\n    port: ${await closedPort()}\n    tls: none\n`);
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN_JS, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${webConfig}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const daemon: WebDaemon = {
    port,
    child,
    logs: () => output,
    async waitForLog(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode} waiting for ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in the daemon's log:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  await daemon.waitForLog(/probe jobs scheduled/);
  return daemon;
}
