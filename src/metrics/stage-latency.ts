import type { Stage } from '../probe/stages.js';
import { formatValue, labelPair, type ExpositionText } from './exposition.js';

interface Series {
  target: string;
  stage: Stage;
  /** `target="…",phase="…"`, formatted once. */
  labels: string;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  counts: number[];
  sum: number;
  count: number;
  /** The series' lines (UTF-8), a view of `room`, written again at each observation. */
  text: Buffer;
  /**
   * Memory the lines are written to, kept across observations: the lines change by a few
   * digits at most, and new memory for each series at every scrape was ~30 MB outside
   * the heap per scrape at 10,000 jobs, enough to start a major garbage collection.
   */
  room: Buffer | undefined;
}

const EMPTY = Buffer.alloc(0);
/** Spare bytes in a series' memory, so that its counts can grow a few digits before it needs more. */
const ROOM_SLACK = 64;

/**
 * A histogram per (target, stage), written as text: what prom-client's Histogram kept,
 * without its per-sample objects at scrape time. Series appear in order of their first
 * observation and are dropped with their target, as Histogram.remove() did.
 */
export class StageLatencyHistogram {
  // Keyed `stage NUL target`: a stage name holds no NUL, so the key is unambiguous.
  readonly #series = new Map<string, Series>();
  readonly #bounds: readonly number[];
  readonly #name: string;
  readonly #help: string;
  /** `name_bucket{le="0.005",` … `name_bucket{le="+Inf",` */
  readonly #bucketPrefixes: readonly string[];

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.#name = name;
    this.#bounds = bounds;
    this.#help = help;
    this.#bucketPrefixes = [...bounds.map(formatValue), '+Inf'].map((le) => `${name}_bucket{${labelPair('le', le)},`);
  }

  observe(target: string, stage: Stage, seconds: number): void {
    const key = `${stage}\0${target}`;
    let series = this.#series.get(key);
    if (!series) {
      series = {
        target,
        stage,
        labels: `${labelPair('target', target)},${labelPair('phase', stage)}`,
        counts: new Array<number>(this.#bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
        text: EMPTY,
        room: undefined,
      };
      this.#series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.#bounds.length && seconds > (this.#bounds[bucket] as number)) bucket += 1;
    (series.counts[bucket] as number) += 1;
    series.sum += seconds;
    series.count += 1;
    // Now, between probes, not in the next scrape: after a probe interval every series has changed.
    series.text = this.#render(series);
  }

  /** Drops every series of a target not in `targets`, and of a phase not in `phases` when given. */
  retain(targets: ReadonlySet<string>, phases?: ReadonlySet<Stage>): void {
    for (const [key, series] of this.#series) {
      if (!targets.has(series.target) || (phases && !phases.has(series.stage))) this.#series.delete(key);
    }
  }

  /** Writes the family, each series from the text its latest observation wrote. */
  async writeTo(out: ExpositionText): Promise<void> {
    out.family(this.#name, this.#help, 'histogram');
    await out.each(this.#series.values(), (series) => out.appendBytes(series.text));
  }

  #render(series: Series): Buffer {
    const lines = this.#lines(series);
    const length = Buffer.byteLength(lines);
    // In place is safe: appendBytes copies the lines before it returns.
    if (!series.room || series.room.length < length) series.room = Buffer.allocUnsafeSlow(length + ROOM_SLACK);
    series.room.write(lines, 0, 'utf8');
    return series.room.subarray(0, length);
  }

  #lines({ labels, counts, sum, count }: Series): string {
    const prefixes = this.#bucketPrefixes;
    const buckets = this.#bounds.length;
    let text = '';
    let cumulative = 0;
    for (let i = 0; i < buckets; i += 1) {
      cumulative += counts[i] as number;
      text += `${prefixes[i]}${labels}} ${cumulative}\n`;
    }
    text += `${prefixes[buckets]}${labels}} ${count}\n`;
    return `${text}${this.#name}_sum{${labels}} ${formatValue(sum)}\n${this.#name}_count{${labels}} ${count}\n`;
  }
}
