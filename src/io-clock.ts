import { performance } from 'node:perf_hooks';

/**
 * When the current batch of I/O events came in, as closely as a Node.js program can
 * tell. libuv hands out every socket that became readable in one poll in turn; with
 * 200 probes in flight the callback of the 50th runs after the work of the 49 before
 * it (parsing, the next command, a TLS handshake's crypto), and a stage timed with
 * performance.now() at its end counted all of that as server latency. The first
 * callback of a batch reads the clock; the others of the same batch, which the kernel
 * had already delivered by then, share that reading. It is reset after the poll phase
 * (setImmediate runs in the check phase that follows it).
 *
 * Call ioTime() first thing in every I/O callback whose time matters (a response
 * arriving, connect, the end of a TLS handshake); read it again where the stage ends.
 */
let batchAt: number | undefined;

const endBatch = (): void => {
  batchAt = undefined;
};

export function ioTime(): number {
  if (batchAt === undefined) {
    batchAt = performance.now();
    setImmediate(endBatch);
  }
  return batchAt;
}
