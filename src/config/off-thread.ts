/**
 * Config loads the daemon does, in a worker thread: parsing YAML is synchronous and takes
 * seconds for a file of tens of thousands of jobs, which on the main thread would stop every
 * probe, scrape and timer for that long at each reload. The worker gets a deadline and a heap
 * cap, so a pathological file fails the load with a reason instead of stalling or bloating
 * the process. Only plain data crosses back; the jobs (with their password readers) are
 * built here.
 */
import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigProblem } from './errors.js';
import { withJobs, type CheckedConfig, type LoadedConfig, type LoadOptions } from './load.js';
import { Secret } from './secrets.js';

/** A load that has not finished by then is abandoned: a reload must end, one way or another. */
export const CONFIG_LOAD_DEADLINE_MS = 60_000;
/** Parsing a 4 MiB file peaks near 300 MiB of heap; beyond this it is not a config. */
const WORKER_HEAP_MIB = 1024;

export interface OffThreadLoadOptions extends LoadOptions {
  /** Default CONFIG_LOAD_DEADLINE_MS. */
  deadlineMs?: number;
}

export interface WorkerRequest {
  path: string;
  maxBytes?: number;
  env?: NodeJS.ProcessEnv;
}

export type WorkerReply =
  | { ok: true; checked: CheckedConfig; inlinePasswords: InlinePassword[] }
  | { ok: false; problems: ConfigProblem[] }
  | { ok: false; message: string };

export async function loadConfigFileOffThread(path: string, options: OffThreadLoadOptions = {}): Promise<LoadedConfig> {
  const request: WorkerRequest = {
    path,
    ...(options.maxBytes !== undefined && { maxBytes: options.maxBytes }),
    ...(options.env && { env: { ...options.env } }),
  };
  const reply = await runWorker(request, options.deadlineMs ?? CONFIG_LOAD_DEADLINE_MS);
  if (reply.ok) return withJobs(withInlinePasswords(reply.checked, reply.inlinePasswords), options.env ?? process.env);
  if ('problems' in reply) throw new ConfigError(path, reply.problems);
  throw new Error(reply.message);
}

/** An inline password's place in the config and its value: a Secret's private field does not survive postMessage. */
export interface InlinePassword {
  target: number;
  account: number;
  value: string;
}

export function inlinePasswordsOf(checked: CheckedConfig): InlinePassword[] {
  return checked.config.targets.flatMap((target, t) =>
    target.accounts.flatMap((account, a) => (account.password.kind === 'inline' ? [{ target: t, account: a, value: account.password.secret.reveal() }] : [])),
  );
}

function withInlinePasswords(checked: CheckedConfig, passwords: readonly InlinePassword[]): CheckedConfig {
  for (const { target, account, value } of passwords) {
    const config = checked.config.targets[target]?.accounts[account];
    if (config) config.password = { kind: 'inline', secret: new Secret(value) };
  }
  return checked;
}

function runWorker(request: WorkerRequest, deadlineMs: number): Promise<WorkerReply> {
  const fail = (message: string): WorkerReply => ({ ok: false, problems: [{ path: '', message }] });
  return new Promise((resolve) => {
    const worker = new Worker(new URL('./load-worker.js', import.meta.url), {
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MIB },
      stdout: true, // a stray write in the worker must not reach the log stream unstructured
      stderr: true,
    });
    let settled = false;
    const settle = (reply: WorkerReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reply);
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(fail(`loading took longer than ${deadlineMs / 1000} s and was abandoned: the file is too large or too deeply nested to be a config`)),
      deadlineMs,
    );
    worker.once('message', (reply: WorkerReply) => settle(reply));
    worker.once('error', (error: Error & { code?: string }) => {
      const why = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `parsing needed more than ${WORKER_HEAP_MIB} MiB of memory` : error.message;
      settle(fail(`cannot load the config: ${why}`));
    });
    worker.once('exit', (code) => settle(fail(`cannot load the config: the loader stopped (exit code ${code}) without an answer`)));
  });
}
