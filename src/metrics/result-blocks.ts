import type { ProbeResult } from '../probe/types.js';
import type { MetricDef } from './definitions.js';
import { CHUNK_BYTES, groupLines, Utf8Scratch, type Deflated, type Emit, type ExpositionText, type MetricType, type SegmentCache, type SegmentCompressor } from './exposition.js';

/** How a per-probe metric reads one ProbeResult (see series.ts), or a family another source of a job's values. */
export type Extract<T = ProbeResult> = (source: T, emit: Emit) => void;

export type SeriesTable<T = ProbeResult> = ReadonlyArray<readonly [MetricDef, Extract<T>]>;

/** What a column's lines are appended to. */
export const PAGE_BYTES = 256 * 1024;
/** Pages kept for reuse, per table: enough to bridge a page let go and the next one needed. */
const MAX_SPARE_PAGES = 16;
/** Pages let go during scrapes, per table, kept until the scrapes end (more are left to the garbage collector). */
const MAX_LIMBO_PAGES = 64;

/** What `Page.ended` holds for a line that is still current. */
const CURRENT = 2 ** 30;

/**
 * Memory a column's lines are appended to, one entry per block whose lines went here.
 * Bytes written there are not written again while the page is in use, nor while a
 * scrape that may copy them is running (see Pages).
 */
interface Page {
  readonly bytes: Buffer;
  used: number;
  /** Bytes of the lines of current blocks that are here. */
  live: number;
  /** Entry i's lines start here and run to the next entry's start (the last one's to `used`). */
  readonly starts: number[];
  /**
   * The block whose lines entry i is, while they are current: what is moved when the
   * page is cleaned. Let go when they end, so that a dropped block (its source gone from
   * the config), with its per-family arrays, is garbage at once instead of living as long
   * as the page.
   */
  readonly owners: (Block | undefined)[];
  /** The table's clock when entry i stopped being current (CURRENT while it is): a scrape begun earlier still writes it. */
  readonly ended: number[];
  /** The page's entries up to `open`, in segments (see Segment). */
  readonly segments: Segment[];
  /** The first entry of the segment being filled. */
  open: number;
}

/**
 * Entries `first` to `end` - 1 of a page, up to a chunk's length of lines (more only
 * for one entry that long): what a gzipped scrape writes as one piece while they are
 * all current, compressed between scrapes as the segment is closed (once a gzipped
 * scrape brought a compressor) or else by the first scrape that writes it, and kept.
 * A schedule replaces lines about in the order it rendered them, so a segment's
 * entries, rendered within milliseconds of each other, stay current together for most
 * of a probe interval.
 */
interface Segment extends SegmentCache {
  readonly first: number;
  readonly end: number;
  deflated: Deflated | undefined;
}

/** One source's lines of every family of the table; family i's are entry entries[i] of pages[i]. */
interface Block {
  source: unknown;
  stamp: unknown;
  /** Undefined for a family with no lines, and for all once the block was dropped. Changed when the lines move (the same bytes elsewhere) or a new source renders others. */
  readonly pages: (Page | undefined)[];
  readonly entries: number[];
}

/**
 * The page memory of one table's columns, reused: new memory for every page was the
 * table's text again each probe interval, outside the heap, which counts towards
 * starting a major garbage collection. A page let go while a scrape runs may still be
 * copied from by it (its view holds the page), so it is reused only once no scrape is
 * running.
 */
class Pages {
  #scrapes = 0;
  /** Moves on at every scrape's start; what a line's end is stamped with (Page.ended). */
  clock = 1;
  readonly #spare: Buffer[] = [];
  readonly #limbo: Buffer[] = [];
  /** Pages made, not reused (tests, benchmarks). */
  made = 0;
  /** What compresses segments as they are closed, once a gzipped scrape brought one. */
  compressor: SegmentCompressor | undefined;
  /** Where a block's new lines are encoded to compare them with its current ones. */
  readonly scratch = new Utf8Scratch();

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

  /** A scrape begins: it writes the lines that were current at the clock returned. */
  scrapeStarted(): number {
    this.#scrapes += 1;
    const now = this.clock;
    this.clock += 1;
    return now;
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
  /** Pages with current lines, besides the one appended to, oldest first. */
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
    const open = page.starts[page.open];
    if (open !== undefined && page.used + length - open > CHUNK_BYTES) this.#closeSegment(page);
    if (text !== undefined) page.bytes.write(text, page.used, 'utf8');
    else from?.bytes.copy(page.bytes, page.used, start, start + length);
    const f = this.#family;
    block.pages[f] = page;
    block.entries[f] = page.starts.length;
    page.starts.push(page.used);
    page.owners.push(block);
    page.ended.push(CURRENT);
    page.used += length;
    page.live += length;
    this.live += length;
    if (page.bytes.length > PAGE_BYTES) this.#closeSegment(page); // a page of its own, full with this
  }

  /** Whether `block`'s lines here are `length` bytes of UTF-8 that read `text`. */
  holds(block: Block, length: number, text: string): boolean {
    const f = this.#family;
    const page = block.pages[f];
    if (page === undefined) return false;
    const entry = block.entries[f] as number;
    const start = page.starts[entry] as number;
    if (entryEnd(page, entry) - start !== length) return false;
    return this.#memory.scratch.encode(text, length).equals(page.bytes.subarray(start, start + length));
  }

  /** `block`'s lines are no longer current (replaced or dropped). */
  release(block: Block): void {
    const f = this.#family;
    const page = block.pages[f];
    if (page === undefined) return;
    const entry = block.entries[f] as number;
    this.#end(page, entry, entryEnd(page, entry) - (page.starts[entry] as number));
  }

  /** The pages a scrape begun now writes from, and how many entries of each are older than it. */
  view(): ColumnView {
    const pages = [...this.#full];
    if (this.#page !== undefined) pages.push(this.#page);
    return { pages, entries: pages.map((page) => page.starts.length) };
  }

  #end(page: Page, entry: number, length: number): void {
    page.ended[entry] = this.#memory.clock;
    page.owners[entry] = undefined;
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
        this.#closeSegment(current);
        if (current.live === 0) this.#letGo(current);
        else this.#full.add(current);
      }
      this.#page = this.#newPage(PAGE_BYTES);
      // The cleaning appends to the new page, and may fill it: look again.
      if (this.held > 2 * this.live + 2 * PAGE_BYTES) this.#cleanSparsest();
    }
  }

  /** The entries of `page` not yet in a segment become one (if there are any), compressed in the background if a compressor is there. */
  #closeSegment(page: Page): void {
    const end = page.starts.length;
    if (end === page.open) return;
    const segment: Segment = { first: page.open, end, deflated: undefined };
    page.segments.push(segment);
    page.open = end;
    // Taken when its turn comes, if its lines are all still current (the page is in use then).
    this.#memory.compressor?.later(
      () => (currentThroughout(page, segment, CURRENT - 1) ? segmentText(page, segment) : undefined),
      (piece) => (segment.deflated = piece),
    );
  }

  #newPage(length: number): Page {
    const page: Page = { bytes: this.#memory.take(length), used: 0, live: 0, starts: [], owners: [], ended: [], segments: [], open: 0 };
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
      const { starts, owners, ended } = sparsest;
      for (let entry = 0; entry < starts.length; entry += 1) {
        if (ended[entry] !== CURRENT) continue; // replaced, dropped or moved since
        const start = starts[entry] as number;
        const length = entryEnd(sparsest, entry) - start;
        // Copied before the page is let go: once it is, it may be the next one taken.
        this.append(owners[entry] as Block, length, undefined, sparsest, start);
        this.#end(sparsest, entry, length);
      }
    } finally {
      this.#cleaning = false;
    }
  }
}


/** Where entry `entry` of `page` ends: where the next one starts, or where the page is filled to. */
function entryEnd(page: Page, entry: number): number {
  return page.starts[entry + 1] ?? page.used;
}

/** What one scrape writes a family from: its column's pages then, and the entries each had. */
interface ColumnView {
  readonly pages: readonly Page[];
  readonly entries: readonly number[];
}

/** What one scrape writes a table from: every column as it was at `clock`. */
export interface TableView {
  readonly clock: number;
  readonly columns: readonly ColumnView[];
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
 * The lines are kept by family (Column), not by source, and a scrape writes a family
 * page by page, in the order the lines were rendered, not the order of its groups:
 * walking 10,000 blocks of a few KB each once per family (~250,000 small copies from as
 * many places in memory) was over half of its CPU, and so was, once the lines were kept
 * by family, copying them one by one in the groups' order from where results had put
 * them. Results replace their lines about in the order they were rendered (a schedule
 * repeats), so a page's current lines mostly lie next to each other and go in a few
 * copies. The text format does not order the series of a family.
 */
export class ResultBlocks<T = ProbeResult> {
  readonly #series: SeriesTable<T>;
  readonly #blocks = new Map<string, Block>();
  readonly #memory = new Pages();
  readonly #columns: Column[];

  constructor(series: SeriesTable<T>) {
    this.#series = series;
    this.#columns = series.map((_, index) => new Column(index, this.#memory));
  }

  /** The current lines of `source`, rendered now if they are not yet. */
  of(base: string, source: T, stamp?: unknown): Block {
    let block = this.#blocks.get(base);
    if (block === undefined) {
      block = this.#render(base, source, stamp);
      this.#blocks.set(base, block);
    } else if (block.source !== source || block.stamp !== stamp) {
      this.#rerender(block, base, source, stamp);
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

  /** Segments are compressed by `compressor` from now on, as they are closed (see Segment). */
  compressWith(compressor: SegmentCompressor): void {
    this.#memory.compressor = compressor;
  }

  /** The source whose lines `base` has now, if any. */
  sourceOf(base: string): T | undefined {
    return this.#blocks.get(base)?.source as T | undefined;
  }

  /** How many sources have lines. */
  get size(): number {
    return this.#blocks.size;
  }

  /**
   * What a scrape begun now writes: the lines current now, in all families, whatever is
   * rendered or dropped while it writes. Call `done` once it is written.
   */
  view(): TableView {
    const clock = this.#memory.scrapeStarted();
    return { clock, columns: this.#columns.map((column) => column.view()) };
  }

  /** A scrape is done with its view: the pages let go since it began may be reused once no other scrape runs. */
  done(): void {
    this.#memory.scrapeEnded();
  }

  /** Writes family `index` as it was in `view`: page by page, each page's current lines that lie next to each other as one run. */
  async writeColumn(out: ExpositionText, index: number, view: TableView): Promise<void> {
    const column = view.columns[index];
    if (column === undefined) throw new RangeError(`no family ${index} in this table`);
    const { pages, entries } = column;
    // A look at the clock after every page (up to 256 KiB of copies).
    await out.eachIndex(pages.length, (p) => writePage(out, pages[p] as Page, entries[p] as number, view.clock), 1);
  }

  #column(index: number): Column {
    const column = this.#columns[index];
    if (column === undefined) throw new RangeError(`no family ${index} in this table`);
    return column;
  }

  #render(base: string, source: T, stamp: unknown): Block {
    // Arrays of the exact length: grown by push, each had room for ~25 families.
    const families = this.#series.length;
    const block: Block = { source, stamp, pages: new Array<Page | undefined>(families).fill(undefined), entries: new Array<number>(families).fill(0) };
    this.#rerender(block, base, source, stamp); // with no lines yet, every family's are appended
    return block;
  }

  /**
   * `block`'s lines from a new source, family by family: lines that came out the same stay
   * where they are, current, with their compressed segment (a target's TLS and capability
   * lines, mostly the same in each of its accounts' results, were written again, and
   * compressed again, with every one of them).
   */
  #rerender(block: Block, base: string, source: T, stamp: unknown): void {
    block.source = source;
    block.stamp = stamp;
    this.#series.forEach(([def, extract], index) => {
      const lines = groupLines(def.name, base, source, extract);
      const column = this.#column(index);
      const length = lines === '' ? 0 : Buffer.byteLength(lines);
      if (length > 0 && column.holds(block, length, lines)) return;
      column.release(block);
      block.pages[index] = undefined;
      if (length > 0) column.append(block, length, lines);
    });
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
 * The entries of `page` below `entries` that were current at `clock`. Into a sink that
 * compresses, a segment whose entries all were goes as one piece (compressed already
 * if an earlier scrape did it); the rest as they are, entries that lie next to each
 * other as one copy.
 */
function writePage(out: ExpositionText, page: Page, entries: number, clock: number): void {
  let from = 0;
  if (out.compresses) {
    for (const segment of page.segments) {
      if (segment.end > entries) break; // not all there when the scrape began
      if (!currentThroughout(page, segment, clock)) {
        segment.deflated = undefined; // nor will it be for a later scrape
        continue;
      }
      writeEntries(out, page, from, segment.first, clock);
      out.appendSegment(segment, () => segmentText(page, segment));
      from = segment.end;
    }
  }
  writeEntries(out, page, from, entries, clock);
}

/** The lines of `segment`, a view of its page. */
function segmentText(page: Page, { first, end }: Segment): Buffer {
  return page.bytes.subarray(page.starts[first], entryEnd(page, end - 1));
}

/** Whether every entry of `segment` was current at `clock`. */
function currentThroughout({ ended }: Page, { first, end }: Segment, clock: number): boolean {
  for (let entry = first; entry < end; entry += 1) if ((ended[entry] as number) <= clock) return false;
  return true;
}

/** Entries `from` to `to` - 1 of `page` that were current at `clock`, those that lie next to each other as one copy. */
function writeEntries(out: ExpositionText, page: Page, from: number, to: number, clock: number): void {
  const { bytes, starts, ended } = page;
  let runStart = 0;
  let runEnd = -1;
  for (let entry = from; entry < to; entry += 1) {
    if ((ended[entry] as number) <= clock) continue; // no longer current when the scrape began
    const start = starts[entry] as number;
    const end = entryEnd(page, entry);
    // A run is ended at a chunk's length, so that a sink that asks to wait is not given several chunks at once.
    if (start === runEnd && end - runStart <= CHUNK_BYTES) {
      runEnd = end;
      continue;
    }
    if (runEnd >= 0) out.appendBytes(bytes, runStart, runEnd);
    runStart = start;
    runEnd = end;
  }
  if (runEnd >= 0) out.appendBytes(bytes, runStart, runEnd);
}

/**
 * One family per entry of the table. With `groups` (formatted base labels, source[,
 * stamp]), each group's block is made current first and blocks of no group are dropped;
 * without, the blocks are written as they are, kept current by whoever renders them as
 * sources change (the collector, as results are recorded).
 */
export async function writeBlocks<T>(
  out: ExpositionText,
  blocks: ResultBlocks<T>,
  series: SeriesTable<T>,
  help: (def: MetricDef) => string,
  groups: Iterable<readonly [string, T, unknown?]> | undefined,
  type: MetricType = 'gauge',
): Promise<void> {
  // In slices: 10,000 stale blocks rendered in one go, as after a reload, held the event
  // loop ~250 ms. Groups are read as the slices reach them, so a source is not older than
  // what a result recorded meanwhile rendered.
  if (groups !== undefined) {
    const bases: string[] = [];
    await out.each(groups, ([base, source, stamp]) => {
      bases.push(base);
      blocks.of(base, source, stamp);
    });
    // Blocks of sources not among the groups (a late result of a job gone from the config): the view would write them.
    if (blocks.size > bases.length) blocks.retain(new Set(bases));
  }
  // Every family is written from the lines current at one moment, so a result recorded
  // mid-scrape shows in all of them from the next scrape, not in some of them in this one.
  const view = blocks.view();
  const background = out.background;
  if (background !== undefined) blocks.compressWith(background); // scrapes are gzipped: have the next ones find the lines compressed
  try {
    for (const [index, [def]] of series.entries()) {
      out.family(def.name, help(def), type);
      await blocks.writeColumn(out, index, view);
    }
  } finally {
    blocks.done();
  }
}
