import type { ProbeResult } from '../probe/types.js';
import type { MetricDef } from './definitions.js';
import { CHUNK_BYTES, groupLines, type Emit, type ExpositionText, type MetricType } from './exposition.js';

/** How a per-probe metric reads one ProbeResult (see series.ts), or a family another source of a job's values. */
export type Extract<T = ProbeResult> = (source: T, emit: Emit) => void;

export type SeriesTable<T = ProbeResult> = ReadonlyArray<readonly [MetricDef, Extract<T>]>;

/** What a column's lines are appended to. */
export const PAGE_BYTES = 256 * 1024;
/** Pages kept for reuse, per table: enough to bridge a page let go and the next one needed. */
const MAX_SPARE_PAGES = 16;
/** Pages let go during scrapes, per table, kept until the scrapes end (more are left to the garbage collector). */
const MAX_LIMBO_PAGES = 64;

/**
 * Memory a column's lines are appended to. Bytes written there are not written again
 * while the page is in use, nor while a scrape that may copy them is running (see Pages).
 */
interface Page {
  readonly bytes: Buffer;
  used: number;
  /** Bytes of the lines of current blocks that are here. */
  live: number;
  /** The blocks that appended lines here (some replaced or moved since): what is moved when the page is cleaned. */
  readonly owners: Block[];
}

/** One source's lines of every family of the table; family i's are pages[i].bytes[at[2i], at[2i + 1]). */
interface Block {
  source: unknown;
  stamp: unknown;
  /** Undefined for a family with no lines, and for all once the block was replaced or dropped. Changed only when the lines move (the same bytes elsewhere). */
  readonly pages: (Page | undefined)[];
  readonly at: number[];
}

/**
 * The page memory of one table's columns, reused: new memory for every page was the
 * table's text again each probe interval, outside the heap, which counts towards
 * starting a major garbage collection. A page let go while a scrape runs may still be
 * copied from by it (its layout holds the old places), so it is reused only once no
 * scrape is running.
 */
class Pages {
  #scrapes = 0;
  readonly #spare: Buffer[] = [];
  readonly #limbo: Buffer[] = [];
  /** Pages made, not reused (tests, benchmarks). */
  made = 0;

  take(length: number): Buffer {
    if (length <= PAGE_BYTES) {
      const spare = this.#spare.pop();
      if (spare !== undefined) return spare;
    }
    this.made += 1;
    // allocUnsafeSlow: not a slice of Node's shared pool, which one live page would keep whole.
    return Buffer.allocUnsafeSlow(Math.max(PAGE_BYTES, length));
  }

  give(bytes: Buffer): void {
    if (bytes.length !== PAGE_BYTES) return;
    if (this.#scrapes > 0) {
      if (this.#limbo.length < MAX_LIMBO_PAGES) this.#limbo.push(bytes);
    } else if (this.#spare.length < MAX_SPARE_PAGES) {
      this.#spare.push(bytes);
    }
  }

  scrapeStarted(): void {
    this.#scrapes += 1;
  }

  scrapeEnded(): void {
    this.#scrapes -= 1;
    if (this.#scrapes > 0) return;
    for (const bytes of this.#limbo) if (this.#spare.length < MAX_SPARE_PAGES) this.#spare.push(bytes);
    this.#limbo.length = 0;
  }
}

/**
 * The lines of one family for every source, appended to pages as sources change. A
 * page whose lines were all replaced is let go. Whenever a new page is needed while
 * more than half of what the column holds is lines no longer current, the sparsest
 * page is cleaned (its current lines moved to the end): a little at a time, so what a
 * column holds stays within about twice its current lines without a pause to compact it.
 */
class Column {
  readonly #family: number;
  readonly #memory: Pages;
  #page: Page | undefined;
  /** Pages with current lines, besides the one appended to. */
  readonly #full = new Set<Page>();
  #cleaning = false;
  /** Bytes of the pages with current lines, and of the page appended to. */
  held = 0;
  /** Bytes of current lines. */
  live = 0;

  constructor(family: number, memory: Pages) {
    this.#family = family;
    this.#memory = memory;
  }

  /** Appends `length` bytes of UTF-8 `text` (or, with `from`, those bytes of a page) as `block`'s lines. */
  append(block: Block, length: number, text: string | undefined, from?: Page, start = 0): void {
    const page = this.#place(length);
    if (text !== undefined) page.bytes.write(text, page.used, 'utf8');
    else from?.bytes.copy(page.bytes, page.used, start, start + length);
    block.pages[this.#family] = page;
    block.at[2 * this.#family] = page.used;
    block.at[2 * this.#family + 1] = page.used + length;
    page.used += length;
    page.live += length;
    page.owners.push(block);
    this.live += length;
  }

  /** `block`'s lines are no longer current (replaced or dropped). */
  release(block: Block): void {
    const page = block.pages[this.#family];
    if (page === undefined) return;
    this.#unlive(page, (block.at[2 * this.#family + 1] as number) - (block.at[2 * this.#family] as number));
  }

  #unlive(page: Page, length: number): void {
    page.live -= length;
    this.live -= length;
    if (page.live === 0 && page !== this.#page) this.#letGo(page);
  }

  /** Room for `length` bytes: at the end of the page appended to, or in a new one (of its own for lines longer than a page). */
  #place(length: number): Page {
    if (length > PAGE_BYTES) {
      const own = this.#newPage(length);
      this.#full.add(own);
      return own;
    }
    for (;;) {
      const current = this.#page;
      if (current !== undefined && current.bytes.length - current.used >= length) return current;
      if (current !== undefined) {
        if (current.live === 0) this.#letGo(current);
        else this.#full.add(current);
      }
      this.#page = this.#newPage(PAGE_BYTES);
      // The cleaning appends to the new page, and may fill it: look again.
      if (this.held > 2 * this.live + 2 * PAGE_BYTES) this.#cleanSparsest();
    }
  }

  #newPage(length: number): Page {
    const page: Page = { bytes: this.#memory.take(length), used: 0, live: 0, owners: [] };
    this.held += page.bytes.length;
    return page;
  }

  #letGo(page: Page): void {
    this.#full.delete(page);
    this.held -= page.bytes.length;
    this.#memory.give(page.bytes);
  }

  /** Moves the current lines of the page with the fewest to the end, and lets it go. */
  #cleanSparsest(): void {
    if (this.#cleaning) return; // the moves below may need a new page themselves
    let sparsest: Page | undefined;
    for (const page of this.#full) if (sparsest === undefined || page.live < sparsest.live) sparsest = page;
    if (sparsest === undefined) return;
    this.#cleaning = true;
    try {
      for (const block of sparsest.owners) {
        if (block.pages[this.#family] !== sparsest) continue; // replaced, dropped or moved since
        const start = block.at[2 * this.#family] as number;
        const length = (block.at[2 * this.#family + 1] as number) - start;
        // Copied before the page is let go: once it is, it may be the next one taken.
        this.append(block, length, undefined, sparsest, start);
        this.#unlive(sparsest, length);
      }
    } finally {
      this.#cleaning = false;
    }
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
  readonly #memory = new Pages();
  readonly #columns: Column[];
  #spareLayout: Layout | undefined;

  constructor(series: SeriesTable<T>) {
    this.#series = series;
    this.#columns = series.map((_, index) => new Column(index, this.#memory));
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

  /** Bytes held for family `index` and how many of them are current lines; pages made for the table, not reused (tests, benchmarks). */
  footprint(index: number): { held: number; live: number; pagesMade: number } {
    const { held, live } = this.#column(index);
    return { held, live, pagesMade: this.#memory.made };
  }

  /** A layout for a scrape of up to `count` blocks (see Layout); give it back with `done`. */
  layout(count: number): Layout {
    this.#memory.scrapeStarted();
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
    this.#memory.scrapeEnded();
  }

  /** Writes family `index` of the layout's blocks in order; lines that follow each other in a page go as one run. */
  async writeColumn(out: ExpositionText, index: number, layout: Layout): Promise<void> {
    const { capacity, count, pages, at } = layout;
    const first = index * capacity;
    let runPage: Page | undefined;
    let runStart = 0;
    let runEnd = 0;
    await out.eachIndex(count, (j) => {
      const page = pages[first + j];
      if (page === undefined) return;
      const start = at[2 * (first + j)] as number;
      const end = at[2 * (first + j) + 1] as number;
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
  }

  #column(index: number): Column {
    const column = this.#columns[index];
    if (column === undefined) throw new RangeError(`no family ${index} in this table`);
    return column;
  }

  #render(base: string, source: T, stamp: unknown): Block {
    const block: Block = { source, stamp, pages: [], at: [] };
    this.#series.forEach(([def, extract], index) => {
      const lines = groupLines(def.name, base, source, extract);
      block.pages.push(undefined);
      block.at.push(0, 0);
      if (lines !== '') this.#column(index).append(block, Buffer.byteLength(lines), lines);
    });
    return block;
  }

  #drop(block: Block): void {
    this.#columns.forEach((column) => column.release(block));
    // Pages still list it among their owners: it should not keep its result or other pages alive, nor be moved.
    block.source = undefined;
    block.stamp = undefined;
    block.pages.fill(undefined);
  }
}

/**
 * Where each family's lines of one scrape's blocks are, family after family, in flat
 * arrays: a family is then written by reading them in order, where visiting 10,000
 * block objects (and their arrays) once per family was the larger part of a scrape's
 * CPU, each a few cache misses. Filled as the scrape resolves its blocks, so every
 * family is written from the lines each block had then.
 */
export class Layout {
  /** Blocks it has room for. */
  readonly capacity: number;
  /** Blocks added. */
  count = 0;
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
    const j = this.count;
    if (j >= this.capacity) throw new RangeError(`a layout for ${this.capacity} blocks was given more`);
    this.count += 1;
    for (let f = 0; f < this.#families; f += 1) {
      const slot = f * this.capacity + j;
      this.pages[slot] = block.pages[f];
      this.at[2 * slot] = block.at[2 * f] as number;
      this.at[2 * slot + 1] = block.at[2 * f + 1] as number;
    }
  }

  /** Empty again, holding on to no page. */
  clear(): void {
    this.count = 0;
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
  // written from the same lines, so a result recorded mid-scrape shows in all of them
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
