import type { ProbeResult } from '../probe/types.js';
import type { MetricDef } from './definitions.js';
import { CHUNK_BYTES, groupLines, type Emit, type ExpositionText, type MetricType } from './exposition.js';

/** How a per-probe metric reads one ProbeResult (see series.ts), or a family another source of a job's values. */
export type Extract<T = ProbeResult> = (source: T, emit: Emit) => void;

export type SeriesTable<T = ProbeResult> = ReadonlyArray<readonly [MetricDef, Extract<T>]>;

/** What one column's lines are appended to, in order. */
export const PAGE_BYTES = 256 * 1024;

/** Memory that a column's lines are appended to. Bytes once written there are never written again, so a render may copy them across event-loop turns. */
interface Page {
  readonly bytes: Buffer;
  used: number;
  /** Bytes of the lines of current blocks that are here. */
  live: number;
}

/** One source's lines of every family of the table; family i's are pages[i].bytes[at[2i], at[2i + 1]). */
interface Block {
  readonly source: unknown;
  readonly stamp: unknown;
  /** Undefined for a family with no lines. Changed only when the lines move (the same bytes elsewhere). */
  readonly pages: (Page | undefined)[];
  readonly at: number[];
  /** False once a newer block replaced it or its source was dropped. */
  current: boolean;
}

/**
 * The lines of one family for every source, appended to pages as sources change. A
 * scrape writes a family source after source, so a column whose lines lie in scrape
 * order is copied in a few long runs; a column whose pages are mostly lines of
 * replaced blocks is compacted (see writeColumn). Pages that hold no current lines
 * are let go.
 */
class Column {
  #page: Page | undefined;
  /** Bytes of the pages that hold current lines, and of the page appended to. */
  held = 0;
  /** Bytes of current lines. */
  live = 0;
  /** A scrape is compacting this column: one at a time. */
  compacting = false;

  /** Room for `length` bytes, at the end of the page appended to or in a new one. */
  place(length: number): Page {
    const page = this.#page;
    if (page !== undefined && page.bytes.length - page.used >= length) return page;
    if (page !== undefined && page.live === 0) this.held -= page.bytes.length;
    // allocUnsafeSlow: not a slice of Node's shared pool, which one live page would keep whole.
    const fresh: Page = { bytes: Buffer.allocUnsafeSlow(Math.max(PAGE_BYTES, length)), used: 0, live: 0 };
    this.#page = fresh;
    this.held += fresh.bytes.length;
    return fresh;
  }

  /** Appends `length` bytes of UTF-8 `text` (or, with `from`, those bytes of a page) and records where they went in `block`'s family `family`. */
  append(block: Block, family: number, length: number, text: string | undefined, from?: Page, start = 0): void {
    const page = this.place(length);
    if (text !== undefined) page.bytes.write(text, page.used, 'utf8');
    else from?.bytes.copy(page.bytes, page.used, start, start + length);
    block.pages[family] = page;
    block.at[2 * family] = page.used;
    block.at[2 * family + 1] = page.used + length;
    page.used += length;
    page.live += length;
    this.live += length;
  }

  /** The lines of a block at `page` are no longer current there (replaced, dropped or moved). */
  release(page: Page, length: number): void {
    page.live -= length;
    this.live -= length;
    if (page.live === 0 && page !== this.#page) this.held -= page.bytes.length;
  }

  /** Moves `block`'s lines of family `family` to the end: the same bytes, so a render still writing them from where they were is not disturbed. */
  move(block: Block, family: number): void {
    const page = block.pages[family];
    if (page === undefined) return;
    const start = block.at[2 * family] as number;
    const length = (block.at[2 * family + 1] as number) - start;
    this.append(block, family, length, undefined, page, start);
    this.release(page, length);
  }

  /** Worth compacting at the next scrape: over half of what it holds is no longer current (two pages of slack, so a small column is left be). */
  get fragmented(): boolean {
    return this.held > 2 * this.live + 2 * PAGE_BYTES;
  }

  /** So fragmented that it is compacted without waiting for a scrape (a /metrics nobody scrapes still holds a bounded amount). */
  get overgrown(): boolean {
    return this.held > 4 * this.live + 8 * PAGE_BYTES;
  }
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
 *
 * The lines are kept by family (Column), not by source: a scrape writes family after
 * family, and walking 10,000 blocks of a few KB each once per family (~250,000 small
 * copies from as many places in memory) was over half of its CPU.
 */
export class ResultBlocks<T = ProbeResult> {
  readonly #series: SeriesTable<T>;
  readonly #blocks = new Map<string, Block>();
  readonly #columns: Column[];
  #spareLayout: Layout | undefined;

  constructor(series: SeriesTable<T>) {
    this.#series = series;
    this.#columns = series.map(() => new Column());
  }

  /** The current lines of `source`, rendered now if they are not yet. */
  of(base: string, source: T, stamp?: unknown): Block {
    let block = this.#blocks.get(base);
    if (block === undefined || block.source !== source || block.stamp !== stamp) {
      if (block !== undefined) this.#drop(block);
      block = this.#render(base, source, stamp);
      this.#blocks.set(base, block);
    }
    return block;
  }

  /** Forgets every block whose base is not in `keep` (jobs or targets gone from the config). */
  retain(keep: ReadonlySet<string>): void {
    for (const [base, block] of this.#blocks) {
      if (keep.has(base)) continue;
      this.#drop(block);
      this.#blocks.delete(base);
    }
  }

  /** Bytes held for family `index`, and how many of them are current lines (tests, benchmarks). */
  footprint(index: number): { held: number; live: number } {
    const { held, live } = this.#column(index);
    return { held, live };
  }

  /** A layout for a scrape of up to `count` blocks (see Layout); give it back with `done`. */
  layout(count: number): Layout {
    const spare = this.#spareLayout;
    if (spare !== undefined && spare.capacity >= count) {
      this.#spareLayout = undefined;
      return spare;
    }
    return new Layout(this.#series.length, count);
  }

  /**
   * A scrape is done with its layout, for the next one to fill: at 10,000 jobs the
   * layouts of a scrape are ~10 MB, which as new memory for each scrape counted towards
   * starting a major collection.
   */
  done(layout: Layout): void {
    layout.clear();
    if (layout.capacity > (this.#spareLayout?.capacity ?? 0)) this.#spareLayout = layout;
  }

  /**
   * Writes family `index` of the layout's blocks in order. A fragmented column is
   * compacted on the way: each current block's lines are moved to the end, so that
   * what the column holds stays within about twice what is current.
   */
  async writeColumn(out: ExpositionText, index: number, layout: Layout): Promise<void> {
    const column = this.#column(index);
    const compact = column.fragmented && !column.compacting;
    if (compact) column.compacting = true;
    const { capacity, blocks, pages, at } = layout;
    const first = index * capacity;
    // Lines that follow each other in a page are copied as one run.
    let runPage: Page | undefined;
    let runStart = 0;
    let runEnd = 0;
    try {
      await out.eachIndex(blocks.length, (j) => {
        let page = pages[first + j];
        if (page === undefined) return;
        let start = at[2 * (first + j)] as number;
        let end = at[2 * (first + j) + 1] as number;
        const block = blocks[j] as Block;
        if (compact && block.current) {
          column.move(block, index);
          page = block.pages[index] as Page;
          start = block.at[2 * index] as number;
          end = block.at[2 * index + 1] as number;
        }
        // A run is ended at a chunk's length, so that a sink that asks to wait is not given several chunks at once.
        if (page === runPage && start === runEnd && end - runStart <= CHUNK_BYTES) {
          runEnd = end;
          return;
        }
        if (runPage !== undefined) out.appendBytes(runPage.bytes, runStart, runEnd);
        runPage = page;
        runStart = start;
        runEnd = end;
      });
      if (runPage !== undefined) out.appendBytes(runPage.bytes, runStart, runEnd);
    } finally {
      if (compact) column.compacting = false;
    }
  }

  #column(index: number): Column {
    const column = this.#columns[index];
    if (column === undefined) throw new RangeError(`no family ${index} in this table`);
    return column;
  }

  #render(base: string, source: T, stamp: unknown): Block {
    const block: Block = { source, stamp, pages: [], at: [], current: true };
    this.#series.forEach(([def, extract], index) => {
      const lines = groupLines(def.name, base, source, extract);
      block.pages.push(undefined);
      block.at.push(0, 0);
      if (lines !== '') this.#column(index).append(block, index, Buffer.byteLength(lines), lines);
    });
    this.#compactOvergrown();
    return block;
  }

  #drop(block: Block): void {
    block.current = false;
    block.pages.forEach((page, index) => {
      if (page !== undefined) this.#column(index).release(page, (block.at[2 * index + 1] as number) - (block.at[2 * index] as number));
    });
  }

  /** Compacts, in the order blocks were first made, a column that scrapes have not kept compact. */
  #compactOvergrown(): void {
    this.#columns.forEach((column, index) => {
      if (!column.overgrown || column.compacting) return;
      for (const block of this.#blocks.values()) column.move(block, index);
    });
  }
}

/**
 * Where each family's lines of one scrape's blocks are, family after family, in flat
 * arrays: a family is then written by reading them in order, where visiting 10,000
 * block objects (and their arrays) once per family was the larger part of a scrape's
 * CPU, each a few cache misses. Filled as the scrape resolves its blocks; the blocks
 * themselves are kept for compaction and to pin what the scrape writes.
 */
export class Layout {
  /** Blocks it has room for. */
  readonly capacity: number;
  readonly blocks: Block[] = [];
  /** Family f of block j is bytes at[2(f·capacity + j)] to at[2(f·capacity + j) + 1] of pages[f·capacity + j]. */
  readonly pages: (Page | undefined)[];
  readonly at: Int32Array;
  readonly #families: number;

  constructor(families: number, capacity: number) {
    this.#families = families;
    this.capacity = capacity;
    this.pages = new Array<Page | undefined>(families * capacity).fill(undefined);
    this.at = new Int32Array(2 * families * capacity);
  }

  add(block: Block): void {
    const j = this.blocks.length;
    if (j >= this.capacity) throw new RangeError(`a layout for ${this.capacity} blocks was given more`);
    this.blocks.push(block);
    for (let f = 0; f < this.#families; f += 1) {
      const slot = f * this.capacity + j;
      this.pages[slot] = block.pages[f];
      this.at[2 * slot] = block.at[2 * f] as number;
      this.at[2 * slot + 1] = block.at[2 * f + 1] as number;
    }
  }

  /** Empty again, holding on to no block or page. */
  clear(): void {
    this.blocks.length = 0;
    this.pages.fill(undefined);
  }
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
  // 180,000 times), and in slices: 10,000 stale blocks rendered in one go, as after a
  // reload or a round of new results, held the event loop ~250 ms. Every family is then
  // written from the same blocks, so a result recorded mid-scrape shows in all of them
  // from the next scrape, not in some of them in this one.
  const layout = blocks.layout(groups.length);
  try {
    await out.each(groups, ([base, source, stamp]) => layout.add(blocks.of(base, source, stamp)));
    for (const [index, [def]] of series.entries()) {
      out.family(def.name, help(def), type);
      await blocks.writeColumn(out, index, layout);
    }
  } finally {
    blocks.done(layout);
  }
}
