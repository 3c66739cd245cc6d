import { Registry } from 'prom-client';

/**
 * The Prometheus text format (0.0.4), written straight to strings. prom-client's
 * Gauge.set → get() → Registry formatting builds and hashes an object per sample,
 * which at thousands of jobs made a scrape cost ~0.9 s of blocked event loop; our
 * families are rewritten from the latest results at every scrape anyway, so they
 * skip that object model and are written here, byte for byte as prom-client wrote
 * them (label order as given, `le` first in histogram buckets, a blank line between
 * families).
 */

export type MetricType = 'gauge' | 'counter' | 'histogram';

const LABEL_ESCAPE = /[\\\n"]/;
const HELP_ESCAPE = /[\\\n]/;
const CHUNK = 16 * 1024; // characters gathered before a copy into the buffer

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
 * The text of a whole exposition as it is written: UTF-8 into a growing buffer in
 * chunks, so a scrape of hundreds of thousands of lines does not hold each line as a
 * string until the end (which made the garbage collector the main cost).
 */
export class ExpositionText {
  #buffer: Buffer;
  #length = 0;
  #pending = '';
  #started = false;

  constructor(sizeHint = 0) {
    this.#buffer = Buffer.allocUnsafe(Math.max(64 * 1024, sizeHint));
  }

  /** Starts a family: a blank line after the previous one, then HELP and TYPE. */
  family(name: string, help: string, type: MetricType): FamilyWriter {
    this.families(familyHeader(name, help, type));
    return new FamilyWriter(this, name);
  }

  /** Whole families already in the text format (prom-client's), after a blank line if any came before. */
  families(text: string): void {
    if (this.#started) this.append('\n');
    this.#started = true;
    this.append(text);
  }

  append(text: string): void {
    this.#pending += text;
    if (this.#pending.length >= CHUNK) this.#flush();
  }

  get byteLength(): number {
    this.#flush();
    return this.#length;
  }

  toString(): string {
    this.#flush();
    return this.#buffer.toString('utf8', 0, this.#length);
  }

  #flush(): void {
    const pending = this.#pending;
    if (pending === '') return;
    const needed = this.#length + pending.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#length += this.#buffer.write(pending, this.#length, 'utf8');
    this.#pending = '';
  }
}

/**
 * Writes the samples of one family, one group at a time (a group is one job's or one
 * target's samples, sharing `base`, their formatted leading labels). Within a group a
 * repeated label set keeps its first place and takes the later value, as Gauge.set
 * did, so a server advertising `IDLE` and `idle` still yields one series. Groups never
 * share label sets (jobs are unique per target and account), so nothing is compared
 * across groups.
 */
export class FamilyWriter {
  readonly #out: ExpositionText;
  readonly #name: string;
  readonly #extras: string[] = [];
  readonly #values: number[] = [];

  constructor(out: ExpositionText, name: string) {
    this.#out = out;
    this.#name = name;
  }

  /**
   * Writes one group: `write` calls `emit(extra, value)` per sample, `extra` being the
   * further labels as `,name="value"` pairs ('' for none). Non-finite values are
   * dropped: a gauge that cannot be read faithfully is better absent.
   */
  group<T>(base: string, source: T, write: (source: T, emit: Emit) => void): void {
    write(source, this.emit);
    const extras = this.#extras;
    const values = this.#values;
    for (let i = 0; i < extras.length; i += 1) {
      this.#out.append(`${this.#name}{${base}${extras[i]}} ${formatValue(values[i] as number)}\n`);
    }
    extras.length = 0;
    values.length = 0;
  }

  /** A sample with no further labels and no repeats to fold: `base` '' writes it unlabelled. */
  sample(base: string, value: number): void {
    this.#out.append(base === '' ? `${this.#name} ${formatValue(value)}\n` : `${this.#name}{${base}} ${formatValue(value)}\n`);
  }

  readonly emit: Emit = (extra, value) => {
    if (!Number.isFinite(value)) return;
    const extras = this.#extras;
    const at = extras.indexOf(extra);
    if (at >= 0) {
      this.#values[at] = value;
    } else {
      extras.push(extra);
      this.#values.push(value);
    }
  };
}

/** Emits one sample of the current group: `extra` holds its labels after the group's base, each as `,name="value"`. */
export type Emit = (extra: string, value: number) => void;

/**
 * A prom-client Registry whose metrics() starts with families written as text by
 * `render`, followed by what is registered on it the usual way (prom-client's default
 * process metrics). Only metrics() sees the written families: getMetricsAsJSON() and
 * getSingleMetric() know only the prom-client ones; nothing here uses them.
 */
export class TextRegistry extends Registry {
  readonly #render: (out: ExpositionText) => void;
  #sizeHint = 0;

  constructor(render: (out: ExpositionText) => void) {
    super();
    this.#render = render;
  }

  override async metrics(): Promise<string> {
    // Rendered before the first await: one synchronous pass over the current state.
    const out = new ExpositionText(this.#sizeHint);
    this.#render(out);
    if (this.getMetricsAsArray().length > 0) out.families(await super.metrics());
    this.#sizeHint = out.byteLength + (out.byteLength >> 4); // so the next scrape rarely grows the buffer
    return out.toString();
  }
}
