import { flat } from '../flat-string.js';
import type { Stage } from '../probe/stages.js';
import { formatValue, labelPair, Utf8Scratch, type ExpositionText, type SegmentCache, type SegmentCompressor } from './exposition.js';

interface Series {
  target: string;
  stage: Stage;
  /** `target="…",phase="…"`, formatted once. */
  labels: string;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  counts: number[];
  sum: number;
  count: number;
  /** Its target's series (what a gzipped scrape writes as one piece). */
  readonly group: TargetSeries;
}

/**
 * One target's series, in order of their first observation: what a gzipped scrape
 * writes as one piece, compressed between scrapes after each probe of the target (its
 * lines change with every probe of any of its accounts, so a scrape seldom finds a
 * piece it compressed itself still current).
 */
interface TargetSeries {
  readonly target: string;
  readonly series: Series[];
  /** The piece of the lines as they are now; a new one whenever they change. */
  cache: SegmentCache;
  /** Offered to the compressor and not yet taken. */
  queued: boolean;
}

/**
 * A histogram per (target, stage), written as text: what prom-client's Histogram kept,
 * without its per-sample objects at scrape time. Series appear target by target, each in
 * order of its first observation, and are dropped with their target, as
 * Histogram.remove() did.
 *
 * The lines are not kept, only the counts: a target's lines are rendered when they are
 * compressed (between scrapes, once after they change, however many of its series did)
 * and, for a scrape that finds no piece of them, when it writes them. Kept as text they
 * were ~45 % of /metrics at 10,000 jobs, ~22 MB outside the heap; rendering all of them
 * costs ~30 ms, what a plain scrape pays.
 */
export class StageLatencyHistogram {
  // Keyed `stage NUL target`: a stage name holds no NUL, so the key is unambiguous.
  readonly #series = new Map<string, Series>();
  readonly #targets = new Map<string, TargetSeries>();
  /** What compresses each target's lines after they change, once a gzipped scrape brought one. */
  #compressor: SegmentCompressor | undefined;
  /** Where a target's lines are put together for compression (copied from at once). */
  readonly #scratch = new Utf8Scratch();
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
        labels: flat(`${labelPair('target', target)},${labelPair('phase', stage)}`),
        counts: new Array<number>(this.#bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
        group: this.#targetSeries(target),
      };
      this.#series.set(key, series);
      series.group.series.push(series);
    }
    let bucket = 0;
    while (bucket < this.#bounds.length && seconds > (this.#bounds[bucket] as number)) bucket += 1;
    (series.counts[bucket] as number) += 1;
    series.sum += seconds;
    series.count += 1;
    this.#changed(series.group);
  }

  /** Drops every series of a target not in `targets`, and of a phase not in `phases` when given. */
  retain(targets: ReadonlySet<string>, phases?: ReadonlySet<Stage>): void {
    for (const [key, series] of this.#series) {
      if (!targets.has(series.target) || (phases && !phases.has(series.stage))) this.#series.delete(key);
    }
    for (const [target, group] of this.#targets) {
      const kept = group.series.filter((series) => this.#series.has(`${series.stage}\0${target}`));
      if (kept.length === group.series.length) continue;
      if (kept.length === 0) {
        this.#targets.delete(target);
        continue;
      }
      group.series.splice(0, group.series.length, ...kept);
      this.#changed(group);
    }
  }

  /**
   * Writes the family, each series rendered from its counts; into a gzip stream, a
   * target's series as one piece, compressed since they last changed if the compressor
   * got to it.
   */
  async writeTo(out: ExpositionText): Promise<void> {
    out.family(this.#name, this.#help, 'histogram');
    if (!out.compresses) {
      await out.each(this.#targets.values(), (group) => {
        for (const series of group.series) out.append(this.#lines(series));
      });
      return;
    }
    // Scrapes are gzipped: have the next ones find the lines compressed (this one compresses and keeps them).
    this.#compressor ??= out.background;
    await out.each(this.#targets.values(), (group) => out.appendSegment(group.cache, () => this.#textOf(group)));
  }

  #targetSeries(target: string): TargetSeries {
    let group = this.#targets.get(target);
    if (group === undefined) {
      group = { target, series: [], cache: { deflated: undefined }, queued: false };
      this.#targets.set(target, group);
    }
    return group;
  }

  /** `group`'s lines changed: a new piece, and the compressor asked for it (once, however often they change before it gets to them). */
  #changed(group: TargetSeries): void {
    group.cache = { deflated: undefined };
    if (this.#compressor === undefined || group.queued) return;
    group.queued = true;
    let taken: SegmentCache | undefined;
    this.#compressor.later(
      () => {
        group.queued = false;
        if (this.#targets.get(group.target) !== group) return undefined; // dropped meanwhile
        taken = group.cache;
        return this.#textOf(group);
      },
      // Into the piece of the lines as they were when taken: if they changed since, that one is no longer written.
      (piece) => {
        if (taken !== undefined) taken.deflated = piece;
      },
    );
  }

  /** `group`'s lines as one run of bytes, valid until the next call. */
  #textOf({ series }: TargetSeries): Buffer {
    let lines = '';
    for (const one of series) lines += this.#lines(one);
    return this.#scratch.encode(lines);
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
