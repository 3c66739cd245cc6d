import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** What Node 24 calls the threads of V8's platform pool on Linux (Node 20 leaves them unnamed). */
const V8_WORKER = 'V8Worker';
/** The lowest priority Linux has. */
const MAX_NICE = 19;

export type LoweredThreads = { lowered: number; nice: number } | { skipped: string };

/**
 * Runs V8's helper threads `by` nice levels below the event loop (at most 19). They do
 * the garbage collector's concurrent marking and sweeping and background compilation;
 * at 10,000 jobs on 2 cores a marking had them take about a core beside the loop at
 * the same priority, and the loop then waited for a CPU in the middle of a scrape (the
 * wait part of imap_exporter_eventloop_stall_cpu_wait_seconds). Below the loop they
 * still get every idle cycle, and the loop marks on its own what they leave undone.
 * The pool is made before any JavaScript runs and never grows, so doing this once at
 * start covers it. Linux only (per-thread nice through /proc/self/task); threads are
 * found by name, which Node 20 does not give them: there, and elsewhere, nothing changes.
 */
export function lowerV8Threads(by: number, tasks = '/proc/self/task'): LoweredThreads {
  if (by === 0) return { skipped: 'turned off (--runtime.v8-threads-nice=0)' };
  let ids: string[];
  try {
    ids = readdirSync(tasks).filter((id) => threadName(tasks, id) === V8_WORKER);
  } catch {
    return { skipped: `no ${tasks} (not Linux)` };
  }
  if (ids.length === 0) return { skipped: `no thread named ${V8_WORKER} (Node ${process.versions.node} does not name them)` };
  const nice = Math.min(MAX_NICE, getPriority() + by);
  let lowered = 0;
  let refused = '';
  for (const id of ids) {
    try {
      setPriority(Number(id), nice);
      lowered += 1;
    } catch (error) {
      refused = (error as Error).message; // ended meanwhile, or a sandbox that forbids it
    }
  }
  return lowered > 0 ? { lowered, nice } : { skipped: `setpriority refused: ${refused}` };
}

function threadName(tasks: string, id: string): string | undefined {
  try {
    return readFileSync(`${tasks}/${id}/comm`, 'utf8').trim();
  } catch {
    return undefined; // the thread ended meanwhile
  }
}
