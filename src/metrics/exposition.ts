import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Registry } from 'prom-client';

/**
 * The Prometheus text format (0.0.4), written straight to strings. prom-client's
 * Gauge.set → get() → Registry formatting builds and hashes an object per sample,
 * which at thousands of jobs made a scrape cost ~0.9 s of blocked event loop; our
 * families are rewritten from the latest results at every scrape anyway, so they
 * skip that object model and are written here, byte for byte as prom-client wrote
 * them (label order as given, `le` first in histogram buckets, a blank line between
 * families).
 *
 * A scrape of 10,000 jobs is ~50 MB of text, so it is streamed: written in chunks to
 * a sink (the HTTP response) and rendered in slices, the event loop getting a turn
 * whenever a slice took SLICE_MS or the sink is full (see ExpositionText.each).
 */

export type MetricType = 'gauge' | 'counter' | 'histogram';

const LABEL_ESCAPE = /[\\\n"]/;
const HELP_ESCAPE = /[\\\n]/;
/** Bytes gathered before they go to the sink. */
export const CHUNK_BYTES = 64 * 1024;
/**
 * Chunks the sinks gave back, for any render to fill again. A 10,000-job scrape is ~750
 * chunks: new ones each time were ~50 MB of memory outside the heap per scrape, which
 * only garbage collections give back (and which counts towards starting one).
 */
const spareChunks: Buffer[] = [];
const MAX_SPARE_CHUNKS = 32;
const releaseChunk = (chunk: Buffer): void => {
  if (spareChunks.length < MAX_SPARE_CHUNKS) spareChunks.push(chunk);
};
const freshChunk = (): Buffer => spareChunks.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
/** The longest the render holds the event loop before probes and other requests get a turn. */
export const SLICE_MS = 8;
/** Items written between two looks at the clock (performance.now() is cheap, not free). */
const ITEMS_PER_LOOK = 32;

/** Memory UTF-8 text is encoded into, reused: what `encode` returns is valid until its next call. */
export class Utf8Scratch {
  #bytes = Buffer.alloc(0);

  /** `text` as UTF-8; `length` is its byte length, when the caller has it already. */
  encode(text: string, length = Buffer.byteLength(text)): Buffer {
    if (this.#bytes.length < length) this.#bytes = Buffer.allocUnsafeSlow(Math.max(length, 2 * this.#bytes.length, 4096));
    this.#bytes.write(text, 0, 'utf8');
    return this.#bytes.subarray(0, length);
  }
}

/** A label value as the text format quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A HELP text: backslash and newline escaped (quotes stay as they are). */
export function escapeHelp(text: string): string {
  if (!HELP_ESCAPE.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `name="value"`, escaped. */
export function labelPair(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

/** A sample value: shortest round-trip decimal (integers plain), `+Inf`, `-Inf`, `NaN`. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return `${value}`;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** The HELP and TYPE lines that open a family. */
export function familyHeader(name: string, help: string, type: MetricType): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/**
 * Text compressed earlier, on its own: raw deflate from a fresh start, sync-flushed
 * (byte-aligned, not the final block), so it can stand anywhere in a deflate stream.
 */
export interface Deflated {
  readonly data: Uint8Array;
  /** The zlib level it was compressed at. */
  readonly level: number;
  /** CRC-32 and length of the text it stands for. */
  readonly crc: number;
  readonly length: number;
}

/** Where a segment of pre-rendered text keeps its compressed form between scrapes. */
export interface SegmentCache {
  deflated: Deflated | undefined;
}

/**
 * Compresses segments between scrapes, so that a scrape finds them compressed: on the
 * gzip thread, in turn. When a segment's turn comes, `text()` gives its text as it is
 * then (undefined: no longer wanted, skipped), and `keep` later gets the piece.
 */
export interface SegmentCompressor {
  readonly level: number;
  later(text: () => Uint8Array | undefined, keep: (piece: Deflated) => void): void;
}

/** What a sink that compresses also takes: text compressed earlier, and text to compress on its own and keep. */
export interface DeflateSink {
  readonly level: number;
  /** What compresses segments for later scrapes of this kind, if anything does. */
  readonly background?: SegmentCompressor;
  /** Takes `piece` in place of its text; false as for write. */
  writeDeflated(piece: Deflated): boolean;
  /** Takes text to compress on its own and hand to `keep` once compressed (copied at once); false as for write. */
  writeSegment(text: Uint8Array, keep: (piece: Deflated) => void): boolean;
}

/** Where the text goes, chunk by chunk. */
export interface ChunkSink {
  /** There when the sink compresses, for text compressed (or to be kept compressed) a segment at a time. */
  readonly deflate?: DeflateSink;
  /**
   * Takes a chunk of UTF-8; false asks the writer to wait for `drained()` before the next.
   * `release`, when given, is for the sink to call once it no longer needs the chunk's
   * bytes (at once if it copies them); only then may the writer fill it again. A sink that
   * never calls it leaves the chunk to the garbage collector.
   */
  write(chunk: Buffer, release?: () => void): boolean;
  /** Resolves once the sink takes more. */
  drained(): Promise<void>;
}

/**
 * A sink that keeps everything, in a growing buffer (not as one string per line,
 * which made the garbage collector the main cost): /probe, tests, benchmarks.
 */
export class BufferSink implements ChunkSink {
  #buffer: Buffer;
  #length = 0;

  constructor(sizeHint = 0) {
    this.#buffer = Buffer.allocUnsafe(Math.max(64 * 1024, sizeHint));
  }

  write(chunk: Buffer, release?: () => void): boolean {
    const needed = this.#length + chunk.length;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#length += chunk.copy(this.#buffer, this.#length);
    release?.();
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  get byteLength(): number {
    return this.#length;
  }

  toString(): string {
    return this.#buffer.toString('utf8', 0, this.#length);
  }
}

/**
 * The text of a whole exposition as it is written, passed on to a sink in chunks of
 * UTF-8. Families are written one after another; a large one goes through `each`,
 * which lets the event loop run between slices: await it before starting the next family.
 */
export class ExpositionText {
  readonly #sink: ChunkSink;
  #chunk = freshChunk();
  #used = 0;
  #started = false;
  #full = false;
  #sliceStart = performance.now();
  #inEach = 0;

  /** Without a sink the text is kept (toString()). */
  constructor(sink: ChunkSink = new BufferSink()) {
    this.#sink = sink;
  }

  /** Starts a family: a blank line after the previous one, then HELP and TYPE. */
  family(name: string, help: string, type: MetricType): FamilyWriter {
    this.families(familyHeader(name, help, type));
    return new FamilyWriter(this, name);
  }

  /** Whole families already in the text format (prom-client's), after a blank line if any came before. */
  families(text: string): void {
    // A family started while `each` is still writing the previous one would interleave their samples.
    if (this.#inEach > 0) throw new Error('a metric family was started before the previous one was written: an `each` not awaited');
    if (this.#started) this.append('\n');
    this.#started = true;
    this.append(text);
  }

  append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, or the chunk goes first.
    if (this.#used + text.length * 3 > CHUNK_BYTES) {
      this.flush();
      if (text.length * 3 > CHUNK_BYTES) return this.#hand(Buffer.from(text, 'utf8'));
    }
    this.#used += this.#chunk.write(text, this.#used, 'utf8');
  }

  /**
   * Bytes `start` to `end` of UTF-8 text (pre-rendered lines), copied as they are: into
   * the chunk, filled to the brim, and on into the next ones for a long run. Copied, not
   * handed on, so the caller may write over them once this returns.
   */
  appendBytes(bytes: Buffer, start = 0, end = bytes.length): void {
    let from = start;
    while (from < end) {
      if (this.#used === CHUNK_BYTES) this.flush();
      const copied = bytes.copy(this.#chunk, this.#used, from, Math.min(end, from + CHUNK_BYTES - this.#used));
      this.#used += copied;
      from += copied;
    }
  }

  /** Whether the sink compresses (see appendSegment). */
  get compresses(): boolean {
    return this.#sink.deflate !== undefined;
  }

  /** What compresses segments between scrapes for a sink like this one (see SegmentCompressor). */
  get background(): SegmentCompressor | undefined {
    return this.#sink.deflate?.background;
  }

  /**
   * A segment of pre-rendered text (`text()` gives it), written whole: into a
   * compressing sink as the piece `cache` kept from earlier, or compressed as a piece of
   * its own that `cache` keeps for the next scrape; as appendBytes into any other sink.
   */
  appendSegment(cache: SegmentCache, text: () => Uint8Array): void {
    const deflate = this.#sink.deflate;
    if (deflate === undefined) {
      const bytes = text();
      return this.appendBytes(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
    this.flush(); // what came before goes first
    const kept = cache.deflated;
    const ready =
      kept !== undefined && kept.level === deflate.level
        ? deflate.writeDeflated(kept)
        : deflate.writeSegment(text(), (piece) => (cache.deflated = piece));
    if (!ready) this.#full = true;
  }

  /**
   * Calls `write` for every item (each writes the samples of one job or one target),
   * giving the event loop a turn whenever a slice of work took SLICE_MS or the sink
   * asked to wait. Items are read as the iteration reaches them.
   */
  async each<T>(items: Iterable<T>, write: (item: T) => void): Promise<void> {
    this.#inEach += 1;
    try {
      let sinceLook = 0;
      for (const item of items) {
        write(item);
        if (++sinceLook < ITEMS_PER_LOOK) continue;
        sinceLook = 0;
        if (this.#due()) await this.pause();
      }
    } finally {
      this.#inEach -= 1;
    }
  }

  /** As `each`, for the items 0 to count - 1 of something indexed (no iterator to step), looking at the clock every `perLook` items. */
  async eachIndex(count: number, write: (index: number) => void, perLook = ITEMS_PER_LOOK): Promise<void> {
    this.#inEach += 1;
    try {
      for (let index = 0; index < count; index += 1) {
        write(index);
        if ((index + 1) % perLook === 0 && this.#due()) await this.pause();
      }
    } finally {
      this.#inEach -= 1;
    }
  }

  /** Time for the event loop (or the sink) to have a turn. */
  #due(): boolean {
    return this.#full || performance.now() - this.#sliceStart >= SLICE_MS;
  }

  /** Lets the event loop run (and the sink drain) before the render goes on. */
  async pause(): Promise<void> {
    if (this.#full) {
      this.#full = false;
      await this.#sink.drained();
      // A sink can drain without the event loop turning at all (a loopback socket's
      // 'drain' comes on the next tick; the gzip thread answers while the loop is
      // still polling): the slice goes on then, and its clock is only reset by a real
      // turn. Reset at every drain, a render ran 100-300 ms without letting a timer fire.
      if (performance.now() - this.#sliceStart < SLICE_MS) return;
    } else {
      this.flush(); // what is ready goes out while others run
    }
    await nextTurn();
    this.#sliceStart = performance.now();
  }

  /** Passes what is pending to the sink; call once at the end. */
  flush(): void {
    if (this.#used === 0) return;
    const whole = this.#chunk;
    this.#chunk = freshChunk(); // the sink holds on to the last one until it releases it
    const used = this.#used;
    this.#used = 0;
    let released = false;
    this.#hand(whole.subarray(0, used), () => {
      if (released) return; // a sink that calls twice must not put one chunk in two renders
      released = true;
      releaseChunk(whole);
    });
  }

  #hand(chunk: Buffer, release?: () => void): void {
    if (!this.#sink.write(chunk, release)) this.#full = true;
  }

  /** The text so far, when written without a sink of one's own. */
  toString(): string {
    this.flush();
    if (!(this.#sink instanceof BufferSink)) throw new Error('the text went to a sink; it is not kept');
    return this.#sink.toString();
  }
}

// Scratch space of groupLines: one group is folded at a time, synchronously.
const scratchExtras: string[] = [];
const scratchValues: number[] = [];

/** Emits one sample of the current group: `extra` holds its labels after the group's base, each as `,name="value"`. */
export type Emit = (extra: string, value: number) => void;

const collect: Emit = (extra, value) => {
  if (!Number.isFinite(value)) return;
  const at = scratchExtras.indexOf(extra);
  if (at >= 0) {
    scratchValues[at] = value;
  } else {
    scratchExtras.push(extra);
    scratchValues.push(value);
  }
};

/**
 * The sample lines of one group of family `name` (a group is one job's or one
 * target's samples, sharing `base`, their formatted leading labels): `write` calls
 * `emit(extra, value)` per sample, `extra` being the further labels as `,name="value"`
 * pairs ('' for none). Within a group a repeated label set keeps its first place and
 * takes the later value, as Gauge.set did, so a server advertising `IDLE` and `idle`
 * still yields one series. Groups never share label sets (jobs are unique per target
 * and account), so nothing is compared across groups. Non-finite values are dropped:
 * a gauge that cannot be read faithfully is better absent.
 */
export function groupLines<T>(name: string, base: string, source: T, write: (source: T, emit: Emit) => void): string {
  scratchExtras.length = 0;
  scratchValues.length = 0;
  write(source, collect);
  let text = '';
  for (let i = 0; i < scratchExtras.length; i += 1) {
    text += `${name}{${base}${scratchExtras[i]}} ${formatValue(scratchValues[i] as number)}\n`;
  }
  scratchExtras.length = 0;
  scratchValues.length = 0;
  return text;
}

/** Writes the samples of one family, one group at a time (see groupLines). */
export class FamilyWriter {
  readonly #out: ExpositionText;
  readonly #name: string;

  constructor(out: ExpositionText, name: string) {
    this.#out = out;
    this.#name = name;
  }

  get name(): string {
    return this.#name;
  }

  /** Writes one group: see groupLines. */
  group<T>(base: string, source: T, write: (source: T, emit: Emit) => void): void {
    this.#out.append(groupLines(this.#name, base, source, write));
  }

  /** A sample with no further labels and no repeats to fold: `base` '' writes it unlabelled. */
  sample(base: string, value: number): void {
    this.#out.append(base === '' ? `${this.#name} ${formatValue(value)}\n` : `${this.#name}{${base}} ${formatValue(value)}\n`);
  }
}

/** Writes families into an ExpositionText; may be async when it writes large ones through `each`. */
export type Render = (out: ExpositionText) => void | Promise<void>;

/**
 * A prom-client Registry whose metrics() starts with families written as text by
 * `render`, followed by what is registered on it the usual way (prom-client's default
 * process metrics). Only metrics() and writeTo() see the written families:
 * getMetricsAsJSON() and getSingleMetric() know only the prom-client ones; nothing
 * here uses them.
 */
export class TextRegistry extends Registry {
  readonly #render: Render;
  #sizeHint = 0;

  constructor(render: Render) {
    super();
    this.#render = render;
  }

  /** The whole exposition as one string (/probe, tests); /metrics streams with writeTo(). */
  override async metrics(): Promise<string> {
    const sink = new BufferSink(this.#sizeHint);
    await this.writeTo(sink);
    this.#sizeHint = sink.byteLength + (sink.byteLength >> 4); // so the next call rarely grows the buffer
    return sink.toString();
  }

  /** Streams the exposition into `sink`, yielding to the event loop between slices. */
  async writeTo(sink: ChunkSink): Promise<void> {
    const out = new ExpositionText(sink);
    await this.#render(out);
    if (this.getMetricsAsArray().length > 0) out.families(await super.metrics());
    out.flush();
  }
}
