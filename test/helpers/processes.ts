/**
 * Which processes are left of a test server after its stop(). Asserting on this, not on
 * "the port now refuses": a freed port may at once be bound by a server of a test file
 * running in parallel.
 */
import { readdir, readFile } from 'node:fs/promises';

/** pids whose /proc/PID/<file> (cmdline or environ) contains `text`. */
export async function processesWith(file: 'cmdline' | 'environ', text: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const found: number[] = [];
  for (const pid of pids) {
    const content = await readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
    if (content.includes(text)) found.push(Number(pid));
  }
  return found;
}
