import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MetricDef } from '../../src/metrics/definitions.js';
import { BufferSink, CHUNK_BYTES, ExpositionText, familyHeader, groupLines, type ChunkSink } from '../../src/metrics/exposition.js';
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

/** What writeBlocks must write: every family over every group, formatted afresh. */
function expected(groups: Groups): string {
  return TABLE.map(([d, extract]) => familyHeader(d.name, help(d), 'gauge') + groups.map(([base, s]) => groupLines(d.name, base, s, extract)).join('')).join('\n');
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
  it('writes what formatting every family afresh writes, through updates, compactions and dropped sources', async () => {
    const blocks = new ResultBlocks(TABLE);
    let groups = makeGroups(3_000);
    let compactions = 0;
    for (let round = 0; round < 12; round += 1) {
      const before = blocks.footprint(1).held;
      assert.equal(await scrape(blocks, groups), expected(groups), `round ${round}`);
      if (blocks.footprint(1).held < before) compactions += 1;
      update(groups, round % 3 === 0 ? 1 : 3, round % 3);
      if (round === 6) {
        groups = groups.filter((_, i) => i % 7 !== 0); // sources gone from the config
        blocks.retain(new Set(groups.map(([base]) => base)));
      }
    }
    assert.ok(compactions >= 2, `the many-line family was compacted in scrapes (${compactions} times)`);
  });

  it('copies a compacted family in a few long runs, not source by source', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    for (let round = 0; round < 4; round += 1) {
      await scrape(blocks, groups);
      update(groups, 1, 0);
    }
    await scrape(blocks, groups); // fragmented by the updates: compacted in this one
    const copies = countAppendBytes();
    try {
      assert.equal(await scrape(blocks, groups), expected(groups));
    } finally {
      copies.restore();
    }
    const live = [0, 1, 2].map((family) => blocks.footprint(family).live);
    assert.ok((live[1] as number) > 2 * PAGE_BYTES, 'a family spans several pages');
    // A run ends at a page's end or a chunk's length: a dozen or so, against ~7,500 sources with lines.
    const runs = live.reduce((sum, bytes) => sum + Math.ceil(bytes / CHUNK_BYTES) + Math.ceil(bytes / PAGE_BYTES), 0);
    assert.ok(copies.count <= runs, `${copies.count} copies for at most ${runs} runs`);
  });

  it('writes each source from one version in all families, though it changes during the scrape', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    await scrape(blocks, groups);
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
    assert.ok(turns >= 5, `the scrape waited for the sink ${turns} times`);
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

  it('writes the same text in two scrapes that run at once, while one of them compacts', async () => {
    const blocks = new ResultBlocks(TABLE);
    const groups = makeGroups(3_000);
    for (let round = 0; round < 4; round += 1) {
      await scrape(blocks, groups);
      update(groups, 1, 0);
    }
    const waiting = (): { sink: ChunkSink; text: BufferSink } => {
      const text = new BufferSink();
      return { text, sink: { write: (chunk, release) => (text.write(chunk, release), false), drained: () => nextTurn() } };
    };
    const a = waiting();
    const b = waiting();
    await Promise.all([scrape(blocks, groups, a.sink), scrape(blocks, groups, b.sink)]);
    assert.equal(a.text.toString(), expected(groups));
    assert.equal(b.text.toString(), expected(groups));
  });

  it('holds a bounded amount for a family, scraped or not, though one source never changes', async () => {
    for (const scraped of [true, false]) {
      const blocks = new ResultBlocks(TABLE);
      const groups = makeGroups(2_000);
      // Source 0 keeps its first version (a job with a long interval) and so pins the page it is in.
      for (let round = 0; round < 40; round += 1) {
        if (scraped) await scrape(blocks, groups);
        update(groups, 1, 0);
        groups[0] = [groups[0]?.[0] as string, { version: 0, lines: 1 }];
        for (const [base, s] of groups) blocks.of(base, s);
        const { held, live } = blocks.footprint(1);
        const bound = scraped ? 2 * live + 2 * PAGE_BYTES + live : 4 * live + 8 * PAGE_BYTES + PAGE_BYTES;
        assert.ok(held <= bound, `${scraped ? 'scraped' : 'not scraped'}, round ${round}: holds ${held} bytes for ${live} live`);
      }
      assert.equal(await scrape(blocks, groups), expected(groups));
    }
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
