import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { Fifo } from '../fifo.js';
import { CHUNK_BYTES, type ChunkSink, type DeflateSink, type Deflated, type SegmentCompressor } from '../metrics/exposition.js';
import { crc32, crc32Combine } from './crc32.js';
import type { Compressed, OpenCompressor, ToCompress } from './gzip-thread.js';

/** Chunks handed to the thread and not yet back: enough to keep it busy, few enough to bound memory (64 KiB each). */
const MAX_IN_FLIGHT = 8;
/** Segments waiting to be compressed between scrapes; more are left to the scrape that writes them. */
const MAX_WAITING = 100_000;
/**
 * Memory the thread gave back after compressing a chunk in it, for the next chunk's
 * copy. New each time, a 10,000-job scrape allocated ~50 MB outside the heap, which
 * counts towards starting a major garbage collection during the scrape.
 */
const spareCopies: ArrayBuffer[] = [];
const MAX_SPARE_COPIES = 2 * MAX_IN_FLIGHT;
/**
 * Below this, a chunk goes into the stream as a stored (uncompressed) block, on the
 * event loop: a family's header lines between pieces compressed earlier, where a trip
 * to the thread and back would cost more than compressing them saves.
 */
const STORED_BELOW = 2048;
/** Bytes ready to go out but waiting, in order, behind a chunk at the thread or a full inner sink, before the writer is asked to wait. */
const MAX_QUEUED_BYTES = 1 << 20;
/** Output buffers the inner sink gave back once it wrote them. */
const spareOutputs: Buffer[] = [];

/** A copy of `chunk` in memory of its own, which the thread is to give back; a chunk longer than the writer's (a text too long for one) gets memory of its size. */
function copyOf(chunk: Uint8Array): Uint8Array<ArrayBuffer> {
  if (chunk.length > CHUNK_BYTES) return new Uint8Array(chunk);
  const copy = new Uint8Array(spareCopies.pop() ?? new ArrayBuffer(CHUNK_BYTES), 0, chunk.length);
  copy.set(chunk);
  return copy;
}

/**
 * Sends a copy of just `bytes` to be compressed, moved rather than cloned: the caller's
 * bytes are often a view of memory it fills again, and the thread gives the copy's
 * memory back with the result (`keepSpare`).
 */
function sendCopy(port: MessagePort, bytes: Uint8Array): void {
  const copy = copyOf(bytes);
  const message: ToCompress = { chunk: copy };
  port.postMessage(message, [copy.buffer]);
}

/** Memory the thread gave back, for a later copy. */
function keepSpare(spent: ArrayBuffer): void {
  if (spent.byteLength === CHUNK_BYTES && spareCopies.length < MAX_SPARE_COPIES) spareCopies.push(spent);
}

/** A sink that gzips what it is given into another; `finish` ends the stream. */
export interface GzipSink extends ChunkSink {
  /** Takes segments to compress on their own and pieces compressed earlier, in order with the chunks. */
  readonly deflate: DeflateSink;
  /** Ends the gzip stream; resolves once its last bytes went to the inner sink. */
  finish(): Promise<void>;
  /** Gives up (the scraper left, or the render failed): nothing more is written. */
  abort(): void;
}

/**
 * Gzip on a thread of its own, at a lower CPU priority than the event loop
 * (gzip-thread.ts), for the 50 MB /metrics of 10,000 jobs: on libuv's pool, zlib took
 * a core at the loop's own priority, and on a 2-core machine the loop waited for a CPU
 * during every gzipped scrape. The thread starts with the first stream and is unref'd;
 * if it dies, its streams fail (those scrapes end cut off) and the next one starts a new thread.
 */
export class BackgroundGzip {
  readonly #level: number;
  readonly #script: URL;
  #worker: Worker | undefined;
  readonly #open = new Set<(error: Error) => void>();
  /** Compresses segments between scrapes, on the same thread. */
  readonly background: BackgroundCompressor;

  /** `script`: the thread's code (tests pass one that fails). */
  constructor(level: number, script = new URL('./gzip-thread.js', import.meta.url)) {
    this.#level = level;
    this.#script = script;
    this.background = new BackgroundCompressor(level, () => {
      const { port1, port2 } = new MessageChannel();
      const open: OpenCompressor = { port: port2, level };
      this.#thread().postMessage(open, [port2]);
      return port1;
    });
  }

  /** A gzip stream into `inner` (bytes in the order given). */
  sink(inner: ChunkSink): GzipSink {
    const { port1, port2 } = new MessageChannel();
    const open: OpenCompressor = { port: port2, level: this.#level };
    this.#thread().postMessage(open, [port2]);
    return new PortGzipSink(port1, inner, this.#open, this.#level, this.background);
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#script);
    worker.unref();
    const fail = (error: Error): void => {
      if (this.#worker === worker) this.#worker = undefined;
      this.background.lost();
      for (const failStream of [...this.#open]) failStream(error);
    };
    worker.on('error', (error) => fail(new Error(`the gzip thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => fail(new Error(`the gzip thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }
}

interface Waiting {
  text: () => Uint8Array | undefined;
  keep: (piece: Deflated) => void;
}

/**
 * Segments compressed between scrapes, one at a time on the gzip thread: what the next
 * gzipped scrape would otherwise compress while the scraper waits. Their texts are
 * taken when their turn comes, a turn of the event loop after they were offered, so a
 * segment that changes several times in one go (a probe's stages) is compressed once.
 */
export class BackgroundCompressor implements SegmentCompressor {
  readonly level: number;
  readonly #open: () => MessagePort;
  #port: MessagePort | undefined;
  readonly #waiting = new Fifo<Waiting>();
  /** Who keeps each segment in flight, in the order sent. */
  #keepers: ((piece: Deflated) => void)[] = [];
  #turnAsked = false;
  #idle: (() => void)[] = [];

  constructor(level: number, open: () => MessagePort) {
    this.level = level;
    this.#open = open;
  }

  later(text: () => Uint8Array | undefined, keep: (piece: Deflated) => void): void {
    if (this.#waiting.length >= MAX_WAITING) return;
    this.#waiting.push({ text, keep });
    if (this.#turnAsked) return;
    this.#turnAsked = true;
    setImmediate(() => {
      this.#turnAsked = false;
      this.#send();
    }).unref();
  }

  /** Resolves once nothing waits or is in flight (tests, benchmarks); keeps the process alive till then. */
  idle(): Promise<void> {
    if (this.#keepers.length === 0 && this.#waiting.length === 0) return Promise.resolve();
    const port = this.#portToThread();
    port.ref();
    return new Promise<void>((resolve) => this.#idle.push(resolve)).then(() => port.unref());
  }

  /** The thread died: what was in flight is lost, and the next segment opens a port on a new thread. */
  lost(): void {
    this.#port?.close();
    this.#port = undefined;
    this.#keepers = [];
    this.#send();
  }

  #send(): void {
    while (this.#keepers.length < MAX_IN_FLIGHT && this.#waiting.length > 0) {
      const { text, keep } = this.#waiting.shift() as Waiting;
      const bytes = text();
      if (bytes === undefined) continue;
      this.#keepers.push(keep);
      sendCopy(this.#portToThread(), bytes);
    }
    if (this.#keepers.length === 0 && this.#waiting.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #portToThread(): MessagePort {
    if (this.#port !== undefined) return this.#port;
    const port = this.#open();
    port.on('message', ({ data, crc, length, spent }: Compressed) => {
      keepSpare(spent);
      if (port !== this.#port) return;
      this.#keepers.shift()?.({ data, level: this.level, crc, length });
      this.#send();
    });
    port.unref(); // waiting for the thread keeps nothing alive
    this.#port = port;
    return port;
  }
}

/** RFC 1952 header: deflate, no name or time, XFL 4 (fastest) or 0, OS 3 (Unix). */
function gzipHeader(level: number): Uint8Array {
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 1 ? 4 : 0, 3);
}

/** `chunk` as a stored deflate block (not final), which like a sync-flushed piece ends byte-aligned. */
function storedBlock(chunk: Uint8Array): Uint8Array {
  const block = Buffer.allocUnsafe(5 + chunk.length);
  block[0] = 0; // BFINAL 0, BTYPE 00 (stored), then padding to the byte
  block.writeUInt16LE(chunk.length, 1);
  block.writeUInt16LE(~chunk.length & 0xffff, 3);
  block.set(chunk, 5);
  return block;
}

/** A piece of the stream, in its place; without data while the thread compresses it. */
interface Piece {
  data: Uint8Array | undefined;
  crc: number;
  length: number;
}

/**
 * One gzip stream. The framing is done here, on the event loop: pieces compressed
 * earlier go into the output as they are, and only text to compress goes to the
 * thread (a piece that waits for it keeps its place, and what follows waits behind
 * it). The CRC-32 of the whole is combined from each piece's, in order.
 */
class PortGzipSink implements GzipSink, DeflateSink {
  readonly deflate: DeflateSink = this;
  readonly level: number;
  readonly background: SegmentCompressor;
  readonly #port: MessagePort;
  readonly #inner: ChunkSink;
  readonly #registry: Set<(error: Error) => void>;
  /** The stream's pieces not yet in the output, in order. */
  readonly #queue = new Fifo<Piece>();
  #queuedBytes = 0;
  /** Pieces at the thread, in the order sent, and who keeps each (a segment's). */
  #atThread: { piece: Piece; keep: ((piece: Deflated) => void) | undefined }[] = [];
  /** Output gathered for the inner sink: pieces of ~1 KB go out together. */
  #out: Buffer;
  #outLength = 0;
  #crc = 0;
  #length = 0;
  #innerFull = false;
  #ending = false;
  #error: unknown;
  #done = false;
  #wake: (() => void) | undefined;
  #finished: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  readonly #onFail = (error: Error): void => this.#fail(error);

  constructor(port: MessagePort, inner: ChunkSink, registry: Set<(error: Error) => void>, level: number, background: SegmentCompressor) {
    this.level = level;
    this.background = background;
    this.#port = port;
    this.#inner = inner;
    this.#registry = registry;
    this.#out = spareOutputs.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.#put(gzipHeader(level));
    registry.add(this.#onFail);
    port.on('message', (reply: Compressed) => this.#compressed(reply));
  }

  write(chunk: Buffer, release?: () => void): boolean {
    this.#check();
    if (chunk.length === 0) {
      release?.();
    } else if (chunk.length < STORED_BELOW) {
      const data = storedBlock(chunk);
      const crc = crc32(chunk);
      release?.();
      this.#enqueue({ data, crc, length: chunk.length });
    } else {
      this.#toThread(chunk, undefined);
      release?.(); // copied
    }
    return this.#ready();
  }

  writeSegment(text: Uint8Array, keep: (piece: Deflated) => void): boolean {
    this.#check();
    this.#toThread(text, keep);
    return this.#ready();
  }

  writeDeflated({ data, crc, length }: Deflated): boolean {
    this.#check();
    // As it is: a kept piece is never written to again.
    if (length > 0) this.#enqueue({ data, crc, length });
    return this.#ready();
  }

  drained(): Promise<void> {
    this.#check();
    // The writer waits: what is gathered goes out meanwhile.
    if (!this.#innerFull) this.#writeOut();
    if (this.#ready()) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#wake = resolve)).then(() => this.#check());
  }

  finish(): Promise<void> {
    this.#check();
    this.#ending = true;
    const finished = new Promise<void>((resolve, reject) => (this.#finished = { resolve, reject }));
    this.#flush();
    return finished;
  }

  abort(): void {
    this.#close();
  }

  #toThread(text: Uint8Array, keep: ((piece: Deflated) => void) | undefined): void {
    const piece: Piece = { data: undefined, crc: 0, length: text.length };
    this.#queue.push(piece);
    this.#atThread.push({ piece, keep });
    sendCopy(this.#port, text);
  }

  #enqueue(piece: Piece & { data: Uint8Array }): void {
    this.#queue.push(piece);
    this.#queuedBytes += piece.data.length;
    this.#flush();
  }

  #compressed({ data, crc, length, spent }: Compressed): void {
    keepSpare(spent);
    if (this.#done) return;
    const sent = this.#atThread.shift();
    if (sent === undefined) return;
    Object.assign(sent.piece, { data, crc, length });
    this.#queuedBytes += data.length;
    sent.keep?.({ data, level: this.level, crc, length });
    this.#flush();
  }

  /** Moves the pieces that are ready, in order, into the output; ends the stream when all went. */
  #flush(): void {
    if (this.#done) return;
    try {
      for (let piece = this.#queue.peek(); !this.#innerFull && piece?.data !== undefined; piece = this.#queue.peek()) {
        this.#queue.shift();
        this.#queuedBytes -= piece.data.length;
        this.#crc = crc32Combine(this.#crc, piece.crc, piece.length);
        this.#length += piece.length;
        this.#put(piece.data);
      }
      if (this.#ending && this.#queue.length === 0 && !this.#innerFull) {
        this.#end();
        return;
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#wakeIfReady();
  }

  #end(): void {
    const trailer = Buffer.alloc(10);
    trailer[0] = 0x03; // a final fixed-Huffman block with nothing in it
    trailer[1] = 0x00;
    trailer.writeUInt32LE(this.#crc >>> 0, 2);
    trailer.writeUInt32LE(this.#length % 2 ** 32, 6);
    this.#put(trailer);
    this.#writeOut();
    this.#close();
    this.#finished?.resolve();
  }

  /** Into the output; what fills it goes to the inner sink, and a piece larger than it goes as it is. */
  #put(data: Uint8Array): void {
    if (this.#outLength + data.length > this.#out.length) this.#writeOut();
    if (data.length > this.#out.length) {
      this.#writeInner(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return;
    }
    this.#out.set(data, this.#outLength);
    this.#outLength += data.length;
  }

  #writeOut(): void {
    if (this.#outLength === 0) return;
    const out = this.#out;
    const length = this.#outLength;
    this.#out = spareOutputs.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.#outLength = 0;
    this.#writeInner(out.subarray(0, length), () => {
      if (spareOutputs.length < MAX_SPARE_COPIES) spareOutputs.push(out);
    });
  }

  #writeInner(bytes: Buffer, release?: () => void): void {
    if (this.#inner.write(bytes, release) || this.#innerFull) return;
    this.#innerFull = true;
    void this.#inner.drained().then(() => {
      this.#innerFull = false;
      this.#flush();
    });
  }

  #ready(): boolean {
    return this.#atThread.length < MAX_IN_FLIGHT && !this.#innerFull && this.#queuedBytes < MAX_QUEUED_BYTES;
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#done) throw new Error('the gzip stream was ended');
  }

  #wakeIfReady(): void {
    if (!this.#ready() || !this.#wake) return;
    const wake = this.#wake;
    this.#wake = undefined;
    wake();
  }

  #fail(error: unknown): void {
    if (this.#done) return;
    this.#error = error;
    this.#close();
    this.#finished?.reject(error);
    const wake = this.#wake; // a render waiting to go on learns of the error when it does
    this.#wake = undefined;
    wake?.();
  }

  #close(): void {
    this.#done = true;
    this.#registry.delete(this.#onFail);
    this.#port.close();
  }
}
