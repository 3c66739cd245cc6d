import type { ProbeResult } from '../probe/types.js';
import type { MetricDef } from './definitions.js';
import { groupLines, type Emit, type ExpositionText } from './exposition.js';

/** How a per-probe metric reads one ProbeResult (see series.ts). */
export type Extract = (result: ProbeResult, emit: Emit) => void;

export type SeriesTable = ReadonlyArray<readonly [MetricDef, Extract]>;

interface Block {
  result: ProbeResult;
  /** Per family of the table, the result's lines ('' for none). */
  lines: readonly string[];
}

/**
 * The sample lines of each job's (or target's) latest result, pre-rendered once per
 * family of a series table: a job's result changes once per interval, a scrape comes
 * every few seconds, so a scrape mostly copies text it already has instead of
 * formatting ~50 lines per job again. Keyed by the formatted base labels (one job or
 * one target each); a result object is never changed once recorded, so a different
 * one is what makes a block stale. (Not a WeakMap on the result: with 10,000s of
 * entries its ephemeron bookkeeping made every garbage collection slower.)
 */
export class ResultBlocks {
  readonly #series: SeriesTable;
  readonly #blocks = new Map<string, Block>();

  constructor(series: SeriesTable) {
    this.#series = series;
  }

  /** The lines of `result` for each family in table order ('' where it has none). */
  of(base: string, result: ProbeResult): readonly string[] {
    let block = this.#blocks.get(base);
    if (block?.result !== result) {
      const lines = this.#series.map(([def, extract]) => groupLines(def.name, base, result, extract));
      block = { result, lines };
      this.#blocks.set(base, block);
    }
    return block.lines;
  }

  /** Forgets every block whose base is not in `keep` (jobs or targets gone from the config). */
  retain(keep: ReadonlySet<string>): void {
    for (const base of this.#blocks.keys()) if (!keep.has(base)) this.#blocks.delete(base);
  }
}

/** One gauge family per entry of the table, each over `groups` of (formatted base labels, result). */
export async function writeBlocks(
  out: ExpositionText,
  blocks: ResultBlocks,
  series: SeriesTable,
  help: (def: MetricDef) => string,
  groups: ReadonlyArray<readonly [string, ProbeResult]>,
): Promise<void> {
  for (const [index, [def]] of series.entries()) {
    out.family(def.name, help(def), 'gauge');
    await out.each(groups, ([base, result]) => out.append(blocks.of(base, result)[index] as string));
  }
}
