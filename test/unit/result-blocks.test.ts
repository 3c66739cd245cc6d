import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { BackgroundGzip } from '../../src/http/gzip-stream.js';
import type { MetricDef } from '../../src/metrics/definitions.js';
import { BufferSink, CHUNK_BYTES, ExpositionText, familyHeader, groupLines, type ChunkSink, type SegmentCompressor } from '../../src/metrics/exposition.js';
import { PAGE_BYTES, ResultBlocks, writeBlocks, type SeriesTable } from '../../src/metrics/result-blocks.js';

/** A source: a version number and how many lines each family gets. */
interface Source {
  version: number;
  lines: number;
}

const def = (name: string): MetricDef => ({ name, help: () => `help of ${name}` }) as unknown as MetricDef;
// Three families: one line, `lines` lines (a few hundred bytes), none for odd versions.
const TABLE: SeriesTable<Source> = [
  [def('t_one'), (s, emit) => emit('', s.version)],
  [def('t_many'), (s, emit) => {
    for (let i = 0; i < s.lines; i += 1) emit(`,line="${i}",pad="${'é'.repeat(20)}"`, s.version);
  }],
  [def('t_even'), (s, emit) => {
    if (s.version % 2 === 0) emit(',even="yes"', s.version);
  }],
];
const help = (d: MetricDef): string => d.help('scheduled');

type Groups = (readonly [string, Source])[];

/** What writeBlocks must write: every family over every group, formatted afresh (see sameText). */
function expected(groups: Groups): string {
  return TABLE.map(([d, extract]) => familyHeader(d.name, help(d), 'gauge') + groups.map(([base, s]) => groupLines(d.name, base, s, extract)).join('')).join('\n');
}

/** The families of `text` in order, each its header and then its sample lines sorted: the order of a family's series is not part of the format. */
function families(text: string): string[][] {
  return text.split('\n\n').map((family) => {
    const lines = family.split('\n').filter((line) => line !== '');
    const header = lines.filter((line) => line.startsWith('#'));
    return [...header, ...lines.filter((line) => !line.startsWith('#')).sort()];
  });
}

/** `actual` has the families and sample lines of `wanted`, each line once, the series of a family in any order. */
function sameText(actual: string, wanted: string, message?: string): void {
  assert.ok(actual.endsWith('\n'), 'the text ends with a line break');
  assert.deepEqual(families(actual), families(wanted), message);
}

async function scrape(blocks: ResultBlocks<Source>, groups: Groups, sink: ChunkSink = new BufferSink()): Promise<string> {
  const out = new ExpositionText(sink);
  await writeBlocks(out, blocks, TABLE, help, groups);
  if (sink instanceof BufferSink) return out.toString();
  out.flush();
  return '';
}

function makeGroups(count: number, version = 0): Groups {
  return Array.from({ length: count }, (_, i) => [`job="j${i}"`, { version, lines: 1 + (i % 5) }] as const);
}

/** Replaces every `step`-th source (from `offset`) with a new version. */
function update(groups: Groups, step: number, offset: number): void {
  for (let i = offset; i < groups.length; i += step) {
    const [base, s] = groups[i] as readonly [string, Source];
    groups[i] = [base, { version: s.version + 1, lines: 1 + ((s.version + i) % 5) }];
  }
}

describe('pre-rendered result blocks', () => {
  it('writes what formatting every family afresh writes, through updates, cleaning and dropped sources', async () => {
    const blocks = new ResultBlocks(TABLE);
    let groups = makeGroups(3_000);
    for (let round = 0; round < 12; round += 1) {
      sameText(await scrape(blocks, groups), expected(groups), `round ${round}`);
      update(groups, round % 3 === 0 ? 1 : 3, round % 3);
      if (round === 6) {
        groups = groups.filter((_, i) => i % 7 !== 0); // sources gone from the config
        blocks.retain(new Set(groups.map(([base]) => base)));
      }
    }
  });

  it('reuses the memory of pages it let go, and copies lines that follow each other in one go', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    await scrape(blocks, groups);
    const { pagesMade, live } = blocks.footprint(1);
    assert.ok(live > 2 * PAGE_BYTES, 'a family spans several pages');
    for (let round = 0; round < 10; round += 1) {
      update(groups, 1, 0);
      await scrape(blocks, groups);
    }
    // Ten times every source's lines, ~30 pages' worth; the table makes no more than its columns may hold at once.
    const made = blocks.footprint(1).pagesMade - pagesMade;
    const mayHold = [0, 1, 2].reduce((sum, family) => sum + Math.ceil((2 * blocks.footprint(family).live) / PAGE_BYTES) + 3, 0);
    assert.ok(made <= mayHold, `${made} pages made after the first scrape, at most ${mayHold} held at once`);
    // Rendered in order here, so each family's lines lie in order: a run per page or chunk, not one per source.
    const copies = countAppendBytes();
    try {
      sameText(await scrape(blocks, groups), expected(groups));
    } finally {
      copies.restore();
    }
    const lines = [0, 1, 2].map((family) => blocks.footprint(family).live);
    const runs = lines.reduce((sum, bytes) => sum + Math.ceil(bytes / CHUNK_BYTES) + Math.ceil(bytes / PAGE_BYTES) + 1, 0);
    assert.ok(copies.count <= runs, `${copies.count} copies for at most ${runs} runs`);
  });

  it('writes each source from one version in all families, though it changes during the scrape', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    await scrape(blocks, groups);
    const atStart = [...groups];
    const firstVersions = new Map(groups.map(([base, s]) => [base, s.version]));
    // A sink that asks to wait after every chunk; while it waits, sources get new versions and are rendered, as recorded results are.
    let turns = 0;
    const text = new BufferSink();
    const slow: ChunkSink = {
      write: (chunk, release) => (text.write(chunk, release), false),
      drained: async () => {
        await nextTurn();
        turns += 1;
        update(groups, 2, turns % 2);
        for (const [base, s] of groups) blocks.of(base, s);
      },
    };
    await scrape(blocks, [...groups], slow);
    assert.ok(turns >= 3, `the scrape waited for the sink ${turns} times`);
    sameText(text.toString(), expected(atStart), 'every line as it was when the scrape began, though pages were let go and taken again meanwhile');
    const seen = new Map<string, Set<string>>();
    for (const line of text.toString().split('\n')) {
      const match = /^t_\w+\{(job="j\d+")[^}]*\} (\d+)$/.exec(line);
      if (!match) continue;
      const versions = seen.get(match[1] as string) ?? new Set();
      versions.add(match[2] as string);
      seen.set(match[1] as string, versions);
    }
    assert.equal(seen.size, 3_000);
    for (const [base, versions] of seen) {
      assert.deepEqual([...versions], [String(firstVersions.get(base))], `${base}: one version, the one current when the scrape began`);
    }
  });

  it('writes the same text in two scrapes that run at once, while sources change', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    for (let round = 0; round < 4; round += 1) {
      await scrape(blocks, groups);
      update(groups, 1, 0);
    }
    // Current before the first scrape, so that it only looks its blocks up and begins writing at once.
    for (const [base, s] of groups) blocks.of(base, s);
    const waiting = (): { sink: ChunkSink; text: BufferSink } => {
      const text = new BufferSink();
      return { text, sink: { write: (chunk, release) => (text.write(chunk, release), false), drained: () => nextTurn() } };
    };
    const a = waiting();
    const b = waiting();
    const atStart = [...groups];
    const first = scrape(blocks, atStart, a.sink);
    await nextTurn();
    update(groups, 1, 0); // rendered by the second scrape while the first is still writing
    await Promise.all([first, scrape(blocks, [...groups], b.sink)]);
    sameText(a.text.toString(), expected(atStart));
    sameText(b.text.toString(), expected(groups));
  });

  it('holds a bounded amount for a family, scraped or not, though some sources change seldom', async () => {
    for (const scraped of [true, false]) {
      const blocks = new ResultBlocks(TABLE);
      const groups = makeGroups(2_000);
      // One source in 40 changes only every 8th round (a job with a long interval), and keeps the page its lines went to until then.
      const slow = groups.filter((_, i) => i % 40 === 0);
      for (let round = 0; round < 40; round += 1) {
        if (scraped) await scrape(blocks, groups);
        update(groups, round % 2 === 0 ? 1 : 3, 0);
        for (let k = 0; k < slow.length; k += 1) {
          const [base, s] = slow[k] as readonly [string, Source];
          if ((round + k) % 8 === 0) slow[k] = [base, { version: s.version + 1, lines: s.lines }];
          groups[40 * k] = slow[k] as readonly [string, Source];
        }
        for (const [base, s] of groups) blocks.of(base, s);
        const { held, live } = blocks.footprint(1);
        assert.ok(held <= 2 * live + 3 * PAGE_BYTES, `${scraped ? 'scraped' : 'not scraped'}, round ${round}: holds ${held} bytes for ${live} live`);
      }
      sameText(await scrape(blocks, groups), expected(groups));
    }
  });
  it('leaves lines that a new source renders the same where they are, and replaces only those that differ', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    await scrape(blocks, groups);
    const before = [0, 1, 2].map((family) => blocks.footprint(family));
    // New sources, equal to the old ones: twenty times every source's lines, ~60 pages' worth, if they were appended again.
    for (let round = 0; round < 20; round += 1) {
      for (const [index, [base, s]] of groups.entries()) groups[index] = [base, { ...s }];
      sameText(await scrape(blocks, groups), expected(groups), `round ${round}`);
    }
    assert.deepEqual([0, 1, 2].map((family) => blocks.footprint(family)), before, 'no line appended, no page made');
    // Another count of lines, the same version: only the family whose lines changed is written anew.
    for (const [index, [base, s]] of groups.entries()) groups[index] = [base, { ...s, lines: s.lines + 1 }];
    sameText(await scrape(blocks, groups), expected(groups));
    const heldAndLive = (family: number): [number, number] => [blocks.footprint(family).held, blocks.footprint(family).live];
    assert.deepEqual([heldAndLive(0), heldAndLive(2)], [[before[0]?.held, before[0]?.live], [before[2]?.held, before[2]?.live]], 'the other families as they were');
    assert.ok(blocks.footprint(1).live > (before[1]?.live ?? Infinity), 'the changed family holds the longer lines');
    // A family a source no longer has lines in, and then has again.
    for (const [index, [base, s]] of groups.entries()) groups[index] = [base, { ...s, version: s.version + 1 }];
    sameText(await scrape(blocks, groups), expected(groups), 'odd versions: no t_even lines');
    assert.equal(blocks.footprint(2).live, 0);
    for (const [index, [base, s]] of groups.entries()) groups[index] = [base, { ...s, version: s.version + 1 }];
    sameText(await scrape(blocks, groups), expected(groups), 'even again');
  });
});

describe('pre-rendered result blocks, gzipped', () => {
  const gzip = new BackgroundGzip(1);

  /**
   * A gzipped scrape, gunzipped; how many segments went compressed already and how many
   * were compressed for keeping. `during` runs whenever the sink asks to wait;
   * `background` is what the scrape brings to compress segments between scrapes.
   */
  async function gzipScrape(
    blocks: ResultBlocks<Source>,
    groups: Groups | undefined,
    during?: () => void,
    background?: SegmentCompressor,
  ): Promise<{ text: string; kept: number; compressed: number }> {
    const pieces: Buffer[] = [];
    const gzipped = gzip.sink({ write: (piece) => pieces.push(Buffer.from(piece)) > 0, drained: () => Promise.resolve() });
    const counts = { kept: 0, compressed: 0 };
    const sink: ChunkSink = {
      write: (chunk, release) => gzipped.write(chunk, release) && during === undefined,
      drained: async () => {
        await gzipped.drained();
        during?.();
      },
      deflate: {
        level: gzipped.deflate.level,
        ...(background ? { background } : {}), // without, nothing is compressed between scrapes
        writeDeflated: (piece) => (counts.kept += 1, gzipped.deflate.writeDeflated(piece) && during === undefined),
        writeSegment: (text, keep) => (counts.compressed += 1, gzipped.deflate.writeSegment(text, keep) && during === undefined),
      },
    };
    const out = new ExpositionText(sink);
    await writeBlocks(out, blocks, TABLE, help, groups);
    out.flush();
    await gzipped.finish();
    return { text: gunzipSync(Buffer.concat(pieces)).toString(), ...counts };
  }

  it('keeps what it compressed while the lines stay current, and compresses anew where one was replaced', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    const first = await gzipScrape(blocks, groups);
    sameText(first.text, expected(groups), 'first scrape');
    assert.equal(first.kept, 0);
    assert.ok(first.compressed > 4, `${first.compressed} segments compressed`);
    const again = await gzipScrape(blocks, undefined);
    sameText(again.text, expected(groups), 'nothing changed');
    assert.deepEqual([again.kept, again.compressed], [first.compressed, 0], 'every segment as it was kept');
    // A quarter of the sources at a time, in the order they were rendered, as a schedule replaces results.
    let before = again;
    for (let round = 0; round < 6; round += 1) {
      const quarter = groups.length / 4;
      for (let i = (round % 4) * quarter; i < ((round % 4) + 1) * quarter; i += 1) {
        const [base, s] = groups[i] as readonly [string, Source];
        groups[i] = [base, { version: s.version + 1, lines: s.lines }];
      }
      const scraped = await gzipScrape(blocks, groups);
      sameText(scraped.text, expected(groups), `round ${round}`);
      const wasWhole = before.kept + before.compressed;
      assert.ok(scraped.kept > 0 && scraped.kept < wasWhole, `round ${round}: ${scraped.kept} segments kept of ${wasWhole}`);
      assert.ok(scraped.compressed > 0, `round ${round}: the new lines compressed`);
      before = scraped;
    }
    assert.equal((await gzipScrape(blocks, undefined)).compressed, 0, 'kept again once current');
  });

  it('keeps every compressed segment when new sources render the same lines', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    const first = await gzipScrape(blocks, groups);
    for (const [index, [base, s]] of groups.entries()) groups[index] = [base, { ...s }]; // new results, the same lines
    const again = await gzipScrape(blocks, groups);
    sameText(again.text, expected(groups));
    assert.deepEqual([again.kept, again.compressed], [first.compressed, 0], 'every segment as it was kept, none compressed anew');
  });

  it('once a scrape brought a compressor, compresses segments as they are closed, between scrapes', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    await gzipScrape(blocks, groups, undefined, gzip.background);
    for (let round = 0; round < 4; round += 1) {
      const quarter = groups.length / 4;
      for (let i = round * quarter; i < (round + 1) * quarter; i += 1) {
        const [base, s] = groups[i] as readonly [string, Source];
        const next = { version: s.version + 1, lines: s.lines };
        groups[i] = [base, next];
        blocks.of(base, next); // recorded, as the collector renders a result
      }
      await gzip.background.idle();
      const scraped = await gzipScrape(blocks, undefined, undefined, gzip.background);
      sameText(scraped.text, expected(groups), `round ${round}`);
      assert.ok(scraped.kept > 0, `round ${round}: ${scraped.kept} kept`);
      assert.equal(scraped.compressed, 0, `round ${round}: every segment closed since was compressed before the scrape`);
    }
  });

  it('writes every line as it was when the scrape began, though sources change while it writes', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    await gzipScrape(blocks, groups);
    const atStart = [...groups];
    let turns = 0;
    const scraped = await gzipScrape(blocks, undefined, () => {
      turns += 1;
      update(groups, 2, turns % 2);
      for (const [base, s] of groups) blocks.of(base, s);
    });
    assert.ok(turns >= 3, `the scrape waited for the sink ${turns} times`);
    assert.ok(scraped.kept > 0, 'segments kept from the first scrape');
    sameText(scraped.text, expected(atStart));
    sameText((await gzipScrape(blocks, undefined)).text, expected(groups), 'and the next scrape the changes');
  });
});

/** Counts ExpositionText.appendBytes calls until restored. */
function countAppendBytes(): { readonly count: number; restore: () => void } {
  const original = ExpositionText.prototype.appendBytes;
  const counter = {
    count: 0,
    restore: () => {
      ExpositionText.prototype.appendBytes = original;
    },
  };
  ExpositionText.prototype.appendBytes = function (this: ExpositionText, ...args: Parameters<typeof original>) {
    counter.count += 1;
    original.apply(this, args);
  };
  return counter;
}
