/** Worker-thread side of loadConfigFileOffThread: checks one config file and posts the outcome. */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from './errors.js';
import { checkConfigFile } from './load.js';
import { inlinePasswordsOf, type WorkerReply, type WorkerRequest } from './off-thread.js';

const { path, maxBytes, env } = workerData as WorkerRequest;

async function check(): Promise<WorkerReply> {
  try {
    const checked = await checkConfigFile(path, { ...(maxBytes !== undefined && { maxBytes }), ...(env && { env }) });
    return { ok: true, checked, inlinePasswords: inlinePasswordsOf(checked) };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: [...error.problems] };
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

parentPort?.postMessage(await check());
