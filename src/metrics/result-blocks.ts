import type { ProbeResult } from '../probe/types.js';
import type { MetricDef } from './definitions.js';
import { groupLines, textBytes, type Emit, type ExpositionText, type MetricType } from './exposition.js';

/** How a per-probe metric reads one ProbeResult (see series.ts), or a family another source of a job's values. */
export type Extract<T = ProbeResult> = (source: T, emit: Emit) => void;

export type SeriesTable<T = ProbeResult> = ReadonlyArray<readonly [MetricDef, Extract<T>]>;

/** One source's lines of every family of the table, as UTF-8 one after another. */
export interface Block {
  readonly source: unknown;
  readonly stamp: unknown;
  readonly bytes: Buffer;
  /** Family i's lines are bytes[starts[i], starts[i + 1]); one entry more than the table. */
  readonly starts: readonly number[];
}

/**
 * The sample lines of each job's (or target's) latest result, pre-rendered once per
 * family of a series table: a job's result changes once per interval, a scrape comes
 * every few seconds, so a scrape mostly copies text it already has instead of
 * formatting ~50 lines per job again. Keyed by the formatted base labels (one job or
 * one target each); a result object is never changed once recorded, so a different
 * one is what makes a block stale; a source that changes in place (a job's counters)
 * comes with a `stamp` that changes with it. (Not a WeakMap on the result: with
 * 10,000s of entries its ephemeron bookkeeping made every garbage collection slower.)
 */
export class ResultBlocks<T = ProbeResult> {
  readonly #series: SeriesTable<T>;
  readonly #blocks = new Map<string, Block>();

  constructor(series: SeriesTable<T>) {
    this.#series = series;
  }

  /** The lines of `source` for each family in table order (see Block). */
  of(base: string, source: T, stamp?: unknown): Block {
    let block = this.#blocks.get(base);
    if (block === undefined || block.source !== source || block.stamp !== stamp) {
      block = render(this.#series, base, source, stamp);
      this.#blocks.set(base, block);
    }
    return block;
  }

  /** Forgets every block whose base is not in `keep` (jobs or targets gone from the config). */
  retain(keep: ReadonlySet<string>): void {
    for (const base of this.#blocks.keys()) if (!keep.has(base)) this.#blocks.delete(base);
  }
}

function render<T>(series: SeriesTable<T>, base: string, source: T, stamp: unknown): Block {
  const starts = [0];
  let text = '';
  let bytes = 0;
  for (const [def, extract] of series) {
    const lines = groupLines(def.name, base, source, extract);
    text += lines;
    bytes += Buffer.byteLength(lines);
    starts.push(bytes);
  }
  return { source, stamp, bytes: textBytes(text), starts };
}

/** One family per entry of the table, each over `groups` of (formatted base labels, source[, stamp]). */
export async function writeBlocks<T>(
  out: ExpositionText,
  blocks: ResultBlocks<T>,
  series: SeriesTable<T>,
  help: (def: MetricDef) => string,
  groups: ReadonlyArray<readonly [string, T, unknown?]>,
  type: MetricType = 'gauge',
): Promise<void> {
  // Looked up once, not once per family (a Map lookup by a 50-character key is not free
  // 180,000 times), and inside the first family's slices: 10,000 stale blocks rendered in
  // one go, as after a reload or a round of new results, held the event loop ~250 ms.
  const resolved: Block[] = [];
  for (const [index, [def]] of series.entries()) {
    out.family(def.name, help(def), type);
    const write = ({ bytes, starts }: Block): void => out.appendBytes(bytes, starts[index], starts[index + 1]);
    if (index === 0) {
      await out.each(groups, ([base, source, stamp]) => {
        const block = blocks.of(base, source, stamp);
        resolved.push(block);
        write(block);
      });
    } else {
      await out.each(resolved, write);
    }
  }
}
