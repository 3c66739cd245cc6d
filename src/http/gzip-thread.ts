/**
 * The thread that compresses /metrics text (gzip-stream.ts is its other side). It lowers
 * its own CPU priority first: on a small machine zlib on libuv's pool competed with
 * the event loop for the cores, and the loop waited tens of ms for a CPU during every
 * gzipped scrape. Here compression takes what the loop leaves.
 *
 * It only compresses: each port (one per response, one for compression between
 * scrapes) brings chunks, and each comes back compressed on its own with a sync flush
 * (byte-aligned, never the final block), with its text's CRC-32 and length. The gzip
 * framing (header, final block, trailer) is the event loop's side, which can then put
 * pieces compressed earlier into a stream without sending them here.
 */
import { setPriority } from 'node:os';
import { parentPort, type MessagePort } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { crc32 } from './crc32.js';

/** Opens a port: chunks of text come on it, one `Compressed` goes back for each, in order. */
export interface OpenCompressor {
  port: MessagePort;
  level: number;
}
/** A chunk, in memory of its own (moved here, and back as `spent`). */
export interface ToCompress {
  chunk: Uint8Array;
}
/** The chunk as raw deflate, sync-flushed; its text's CRC-32 and length; its memory, for the next chunk. */
export interface Compressed {
  data: Uint8Array;
  crc: number;
  length: number;
  spent: ArrayBuffer;
}

/** nice 10: below the event loop, above nothing else the exporter runs. */
const BACKGROUND_NICE = 10;

try {
  setPriority(BACKGROUND_NICE);
} catch {
  // Not permitted here: compression still works, at the loop's own priority.
}

function serve({ port, level }: OpenCompressor): void {
  port.on('message', ({ chunk }: ToCompress) => {
    const deflated = zlib.deflateRawSync(chunk, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const data = new Uint8Array(deflated); // exact: a view of a larger buffer would be moved whole
    const reply: Compressed = { data, crc: crc32(chunk), length: chunk.length, spent: chunk.buffer as ArrayBuffer };
    port.postMessage(reply, [data.buffer, reply.spent]);
  });
}

parentPort?.on('message', serve);
