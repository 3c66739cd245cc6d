import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../fixtures/ports.js';
import { parseExposition, type Sample } from './exposition.js';
import { MAIN_JS } from './spawn.js';

export interface RunningDaemon {
  url: string;
  child: ChildProcess;
  /** Everything the daemon logged so far (stdout and stderr). */
  logs(): string;
  get(path: string, init?: RequestInit): Promise<{ status: number; text: string; type: string | null }>;
  scrape(path?: string): Promise<Sample[]>;
  /** Polls `check` until it returns a value other than undefined, or fails after timeoutMs. */
  waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** Sends a signal and waits for the exit: code, signal and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Resolves with the exit code once the process exited (whatever made it exit). */
  exited: Promise<number | null>;
}

/**
 * Starts `imap_exporter` as a real process on a free loopback port and waits until it is
 * ready (config loaded), or with `until: 'healthy'` only until it serves HTTP.
 */
export async function startDaemon(
  configFile: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
  until: 'ready' | 'healthy' = 'ready',
  /** A command the daemon runs under, e.g. ['prlimit', '--nofile=256', '--']. */
  launcher: string[] = [],
): Promise<RunningDaemon> {
  const port = await freePort();
  const args = [MAIN_JS, `--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, ...extraArgs];
  const [command, ...prefix] = [...launcher, process.execPath];
  const child = spawn(command!, [...prefix, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;

  const daemon: RunningDaemon = {
    url,
    child,
    exited,
    logs: () => output,
    async get(path, init) {
      const response = await fetch(url + path, { ...init, signal: AbortSignal.timeout(15_000) });
      return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
    },
    async scrape(path = '/metrics') {
      const { status, text } = await daemon.get(path);
      if (status !== 200) throw new Error(`${path} answered ${status}: ${text}`);
      return parseExposition(text);
    },
    async waitFor(what, check, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      while (Date.now() < deadline) {
        try {
          const value = await check();
          if (value !== undefined) return value;
        } catch (error) {
          lastError = error;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}\n--- daemon log ---\n${output}`);
    },
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return { code: child.exitCode, signal: child.signalCode, ms: Date.now() - started };
    },
  };
  await daemon.waitFor(`the daemon to answer /-/${until}`, async () => {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}:\n${output}`);
    return (await daemon.get(`/-/${until}`)).status === 200 ? true : undefined;
  });
  return daemon;
}
