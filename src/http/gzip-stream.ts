import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { CHUNK_BYTES, type ChunkSink, type DeflateSink, type Deflated, type SegmentCompressor } from '../metrics/exposition.js';
import type { Compressed, FromGzip, OpenBackground, OpenStream, ToGzip } from './gzip-thread.js';

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

/** A copy of `chunk` in memory of its own, which the thread is to give back; a chunk longer than the writer's (a text too long for one) gets memory of its size. */
function copyOf(chunk: Uint8Array): Uint8Array<ArrayBuffer> {
  if (chunk.length > CHUNK_BYTES) return new Uint8Array(chunk);
  const copy = new Uint8Array(spareCopies.pop() ?? new ArrayBuffer(CHUNK_BYTES), 0, chunk.length);
  copy.set(chunk);
  return copy;
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
      const open: OpenBackground = { background: port2, level };
      this.#thread().postMessage(open, [port2]);
      return port1;
    });
  }

  /** A gzip stream into `inner` (bytes in the order given). */
  sink(inner: ChunkSink): GzipSink {
    const { port1, port2 } = new MessageChannel();
    const open: OpenStream = { port: port2, level: this.#level };
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
  #waiting: Waiting[] = [];
  #next = 0;
  /** Who keeps each segment in flight, in the order sent. */
  #keepers: ((piece: Deflated) => void)[] = [];
  #turnAsked = false;
  #idle: (() => void)[] = [];

  constructor(level: number, open: () => MessagePort) {
    this.level = level;
    this.#open = open;
  }

  later(text: () => Uint8Array | undefined, keep: (piece: Deflated) => void): void {
    if (this.#waiting.length - this.#next >= MAX_WAITING) return;
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
    if (this.#keepers.length === 0 && this.#next === this.#waiting.length) return Promise.resolve();
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
    while (this.#keepers.length < MAX_IN_FLIGHT && this.#next < this.#waiting.length) {
      const { text, keep } = this.#waiting[this.#next] as Waiting;
      this.#next += 1;
      const bytes = text();
      if (bytes === undefined) continue;
      const copy = copyOf(bytes);
      this.#keepers.push(keep);
      this.#portToThread().postMessage({ chunk: copy }, [copy.buffer]);
    }
    if (this.#next === this.#waiting.length) {
      this.#waiting = [];
      this.#next = 0;
    } else if (this.#next > 4096) {
      this.#waiting = this.#waiting.slice(this.#next);
      this.#next = 0;
    }
    if (this.#keepers.length === 0 && this.#next === this.#waiting.length) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #portToThread(): MessagePort {
    if (this.#port !== undefined) return this.#port;
    const port = this.#open();
    port.on('message', ({ data, crc, length, spent }: Compressed) => {
      if (spent.byteLength === CHUNK_BYTES && spareCopies.length < MAX_SPARE_COPIES) spareCopies.push(spent);
      if (port !== this.#port) return;
      this.#keepers.shift()?.({ data, level: this.level, crc, length });
      this.#send();
    });
    port.unref(); // waiting for the thread keeps nothing alive
    this.#port = port;
    return port;
  }
}

class PortGzipSink implements GzipSink, DeflateSink {
  readonly deflate: DeflateSink = this;
  readonly level: number;
  readonly background: SegmentCompressor;
  readonly #port: MessagePort;
  /** Who keeps each segment in flight once it comes back compressed, in the order sent. */
  readonly #keepers: ((piece: Deflated) => void)[] = [];
  /** Pieces compressed earlier, sent together: a histogram's target is one of ~1 KB, and a message each cost more than the bytes. */
  #batch: Deflated[] = [];
  #batchBytes = 0;
  readonly #inner: ChunkSink;
  readonly #registry: Set<(error: Error) => void>;
  #inFlight = 0;
  #innerFull = false;
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
    registry.add(this.#onFail);
    port.on('message', (reply: FromGzip) => this.#piece(reply));
  }

  write(chunk: Buffer, release?: () => void): boolean {
    this.#check();
    this.#sendBatch();
    // A copy of just these bytes, moved rather than cloned: a chunk is a view of memory the writer fills again once released.
    const copy = copyOf(chunk);
    release?.();
    const message: ToGzip = { chunk: copy };
    this.#port.postMessage(message, [copy.buffer]);
    this.#inFlight += 1;
    return this.#ready();
  }

  writeSegment(text: Uint8Array, keep: (piece: Deflated) => void): boolean {
    this.#check();
    this.#sendBatch();
    const copy = copyOf(text);
    const message: ToGzip = { chunk: copy, keep: true };
    this.#port.postMessage(message, [copy.buffer]);
    this.#keepers.push(keep);
    this.#inFlight += 1;
    return this.#ready();
  }

  writeDeflated(piece: Deflated): boolean {
    this.#check();
    this.#batch.push(piece);
    this.#batchBytes += piece.data.length;
    if (this.#batchBytes >= CHUNK_BYTES) this.#sendBatch();
    return this.#ready();
  }

  #sendBatch(): void {
    if (this.#batch.length === 0) return;
    // Cloned: the pieces stay kept for later scrapes.
    const message: ToGzip = { deflated: this.#batch.map(({ data, crc, length }) => ({ data, crc, length })) };
    this.#batch = [];
    this.#batchBytes = 0;
    this.#port.postMessage(message);
    this.#inFlight += 1;
  }

  drained(): Promise<void> {
    this.#check();
    if (this.#ready()) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#wake = resolve)).then(() => this.#check());
  }

  finish(): Promise<void> {
    this.#check();
    this.#sendBatch();
    const message: ToGzip = { end: true };
    this.#port.postMessage(message);
    return new Promise((resolve, reject) => (this.#finished = { resolve, reject }));
  }

  abort(): void {
    this.#close();
  }

  #ready(): boolean {
    return this.#inFlight < MAX_IN_FLIGHT && !this.#innerFull;
  }

  #check(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#done) throw new Error('the gzip stream was ended');
  }

  #piece({ piece, last, spent, kept }: FromGzip): void {
    if (spent?.byteLength === CHUNK_BYTES && spareCopies.length < MAX_SPARE_COPIES) spareCopies.push(spent);
    if (this.#done) return;
    if (!last) this.#inFlight -= 1;
    if (kept !== undefined) {
      // Its own memory, so that a later clone of it copies just these bytes.
      const data = kept.from === 0 ? piece : piece.slice(kept.from);
      this.#keepers.shift()?.({ data, level: this.level, crc: kept.crc, length: kept.length });
    }
    try {
      if (!this.#inner.write(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)) && !last) {
        this.#innerFull = true;
        void this.#inner.drained().then(() => {
          this.#innerFull = false;
          this.#wakeIfReady();
        });
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (last) {
      this.#close();
      this.#finished?.resolve();
    } else {
      this.#wakeIfReady();
    }
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
