/**
 * The thread that gzips /metrics bodies (gzip-stream.ts is its other side). It lowers
 * its own CPU priority first: on a small machine zlib on libuv's pool competed with
 * the event loop for the cores, and the loop waited tens of ms for a CPU during every
 * gzipped scrape. Here compression takes what the loop leaves.
 *
 * One MessagePort per response. Each chunk is compressed on its own with a sync flush
 * (byte-aligned, never the final block), so the pieces concatenate into one deflate
 * stream; the end adds the final empty block and the gzip trailer (CRC-32, length).
 */
import { setPriority } from 'node:os';
import { parentPort, type MessagePort } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { crc32 } from './crc32.js';

/** What a response's port carries to this thread. */
export type ToGzip = { chunk: Uint8Array } | { end: true };
/** What comes back: a piece of the gzip stream; `last` with the trailer; `spent`, the chunk's memory, for the next chunk. */
export interface FromGzip {
  piece: Uint8Array;
  last?: true;
  spent?: ArrayBuffer;
}

export interface OpenStream {
  port: MessagePort;
  level: number;
}

/** nice 10: below the event loop, above nothing else the exporter runs. */
const BACKGROUND_NICE = 10;

try {
  setPriority(BACKGROUND_NICE);
} catch {
  // Not permitted here: compression still works, at the loop's own priority.
}

/** RFC 1952 header: deflate, no name or time, XFL 4 (fastest) or 0, OS 3 (Unix). */
function header(level: number): Uint8Array {
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 1 ? 4 : 0, 3);
}

/** Moves an exact copy of the piece (zlib's output may be a view of a larger buffer, which a clone would copy whole). */
function send(port: MessagePort, { piece, last, spent }: FromGzip): void {
  const exact = new Uint8Array(piece);
  const reply: FromGzip = { piece: exact };
  if (last) reply.last = last;
  if (spent) reply.spent = spent;
  port.postMessage(reply, spent ? [exact.buffer, spent] : [exact.buffer]);
}

function serve({ port, level }: OpenStream): void {
  let crc = 0;
  let length = 0;
  let started = false;
  port.on('message', (message: ToGzip) => {
    if ('end' in message) {
      const trailer = Buffer.alloc(started ? 10 : 20);
      let at = 0;
      if (!started) at += Buffer.from(header(level)).copy(trailer);
      trailer[at] = 0x03; // a final fixed-Huffman block with nothing in it
      trailer[at + 1] = 0x00;
      trailer.writeUInt32LE(crc >>> 0, at + 2);
      trailer.writeUInt32LE(length % 2 ** 32, at + 6);
      send(port, { piece: trailer, last: true });
      port.close();
      return;
    }
    const { chunk } = message;
    crc = crc32(chunk, crc);
    length += chunk.length;
    const deflated = zlib.deflateRawSync(chunk, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    // The chunk's memory goes back: the event loop's side fills it again instead of allocating.
    send(port, { piece: started ? deflated : Buffer.concat([header(level), deflated]), spent: chunk.buffer as ArrayBuffer });
    started = true;
  });
}

parentPort?.on('message', (open: OpenStream) => serve(open));
