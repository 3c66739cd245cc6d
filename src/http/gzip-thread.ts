/**
 * The thread that gzips /metrics bodies (gzip-stream.ts is its other side). It lowers
 * its own CPU priority first: on a small machine zlib on libuv's pool competed with
 * the event loop for the cores, and the loop waited tens of ms for a CPU during every
 * gzipped scrape. Here compression takes what the loop leaves.
 *
 * One MessagePort per response. Each chunk is compressed on its own with a sync flush
 * (byte-aligned, never the final block), so the pieces concatenate into one deflate
 * stream; the end adds the final empty block and the gzip trailer (CRC-32, length).
 * A chunk marked `keep` comes back with its own CRC-32 and length, for the writer to
 * keep and send again in a later stream as `deflated` (several at a time), which goes
 * out as it is.
 */
import { setPriority } from 'node:os';
import { parentPort, type MessagePort } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { crc32, crc32Combine } from './crc32.js';

/** What a response's port carries to this thread. */
export type ToGzip = { chunk: Uint8Array; keep?: true } | { deflated: { data: Uint8Array; crc: number; length: number }[] } | { end: true };
/**
 * What comes back: a piece of the gzip stream; `last` with the trailer; `spent`, the
 * chunk's memory, for the next chunk; `kept`, for a chunk to keep: where in the piece
 * its deflate data starts (after the gzip header in a stream's first piece), its text's
 * CRC-32 and length.
 */
export interface FromGzip {
  piece: Uint8Array;
  last?: true;
  spent?: ArrayBuffer;
  kept?: { from: number; crc: number; length: number };
}

export interface OpenStream {
  port: MessagePort;
  level: number;
}

/** A port for segments compressed between scrapes (gzip-stream.ts's SegmentCompressor): each chunk comes back compressed on its own. */
export interface OpenBackground {
  background: MessagePort;
  level: number;
}
/** What comes back on it: the chunk as raw deflate, sync-flushed; its CRC-32 and length; its memory. */
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

/** RFC 1952 header: deflate, no name or time, XFL 4 (fastest) or 0, OS 3 (Unix). */
function header(level: number): Uint8Array {
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 1 ? 4 : 0, 3);
}

/** `chunk` compressed on its own (raw deflate, sync-flushed), and the CRC-32 of its text. */
function compress(chunk: Uint8Array, level: number): { deflated: Uint8Array; crc: number } {
  return { deflated: zlib.deflateRawSync(chunk, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH }), crc: crc32(chunk) };
}

/** Moves an exact copy of the piece (zlib's output may be a view of a larger buffer, which a clone would copy whole). */
function send(port: MessagePort, { piece, last, spent, kept }: FromGzip): void {
  const exact = piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength ? piece : new Uint8Array(piece);
  const reply: FromGzip = { piece: exact };
  if (last) reply.last = last;
  if (spent) reply.spent = spent;
  if (kept) reply.kept = kept;
  port.postMessage(reply, spent ? [exact.buffer as ArrayBuffer, spent] : [exact.buffer as ArrayBuffer]);
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
    const first = !started;
    started = true;
    const withHeader = (deflated: Uint8Array): Uint8Array => (first ? Buffer.concat([header(level), deflated]) : deflated);
    if ('deflated' in message) {
      for (const piece of message.deflated) {
        crc = crc32Combine(crc, piece.crc, piece.length);
        length += piece.length;
      }
      const pieces = message.deflated.map(({ data }) => data);
      send(port, { piece: withHeader(pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces)) });
      return;
    }
    const { chunk, keep } = message;
    const own = compress(chunk, level);
    const reply: FromGzip = { piece: withHeader(own.deflated), spent: chunk.buffer as ArrayBuffer };
    if (keep) reply.kept = { from: first ? header(level).length : 0, crc: own.crc, length: chunk.length };
    crc = crc32Combine(crc, own.crc, chunk.length);
    length += chunk.length;
    // The chunk's memory goes back (`spent`): the event loop's side fills it again instead of allocating.
    send(port, reply);
  });
}

function serveBackground({ background, level }: OpenBackground): void {
  background.on('message', ({ chunk }: { chunk: Uint8Array }) => {
    const { deflated, crc } = compress(chunk, level);
    const data = new Uint8Array(deflated); // exact: a view of a larger buffer would be moved whole
    const reply: Compressed = { data, crc, length: chunk.length, spent: chunk.buffer as ArrayBuffer };
    background.postMessage(reply, [data.buffer, reply.spent]);
  });
}

parentPort?.on('message', (open: OpenStream | OpenBackground) => ('background' in open ? serveBackground(open) : serve(open)));
