import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry, type Metric } from 'prom-client';
import { constants, deflateRawSync, gunzipSync } from 'node:zlib';
import { crc32 } from '../../src/http/crc32.js';
import { BackgroundGzip } from '../../src/http/gzip-stream.js';
import { createMetricsRegistry } from '../../src/metrics/collector.js';
import {
  BufferSink,
  escapeHelp,
  escapeLabelValue,
  ExpositionText,
  formatValue,
  labelPair,
  TextRegistry,
  type ChunkSink,
  type Deflated,
  type SegmentCompressor,
} from '../../src/metrics/exposition.js';
import { StageLatencyHistogram } from '../../src/metrics/stage-latency.js';
import { STAGE_LATENCY_BUCKETS } from '../../src/metrics/definitions.js';
import { ResultStore } from '../../src/scheduler/results.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { testJob as job } from '../helpers/jobs.js';
import { parseExpositionFull, promtoolCheck } from '../helpers/exposition.js';

describe('exposition text writer', () => {
  it('escapes label values (backslash, quote, newline) and HELP (backslash, newline)', () => {
    assert.equal(escapeLabelValue('plain value'), 'plain value');
    assert.equal(escapeLabelValue('a\\b "c"\nd'), 'a\\\\b \\"c\\"\\nd');
    assert.equal(escapeLabelValue('\\n'), '\\\\n', 'a literal backslash-n is not a newline');
    assert.equal(escapeHelp('say "hi"\\ \nnext'), 'say "hi"\\\\ \\nnext');
    assert.equal(labelPair('mailbox', 'Archiv "alt" Ü'), 'mailbox="Archiv \\"alt\\" Ü"');
  });

  it('formats values as prom-client does, and the special ones as Prometheus spells them', () => {
    const cases: [number, string][] = [
      [0, '0'], [-0, '0'], [42, '42'], [1_760_000_000, '1760000000'], [0.1 + 0.2, '0.30000000000000004'],
      [5e-7, '5e-7'], [1e21, '1e+21'], [-2.5, '-2.5'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [NaN, 'NaN'],
    ];
    for (const [value, text] of cases) assert.equal(formatValue(value), text, String(value));
  });

  it('writes families with a blank line between them; a repeated label set keeps its place and takes the later value', () => {
    const out = new ExpositionText();
    const g = out.family('x_things', 'Things.', 'gauge');
    g.group('target="a"', [['', 1], [',k="1"', 2], [',k="2"', NaN], [',k="1"', 3], [',k="3"', Infinity]] as const, (pairs, emit) => {
      for (const [extra, value] of pairs) emit(extra, value);
    });
    g.group('target="b"', null, (_, emit) => emit(',k="1"', 4));
    out.family('x_empty', 'Nothing yet.', 'counter');
    out.family('x_scalar', 'One.', 'gauge').sample('', 7);
    assert.equal(
      out.toString(),
      [
        '# HELP x_things Things.',
        '# TYPE x_things gauge',
        'x_things{target="a"} 1',
        'x_things{target="a",k="1"} 3',
        'x_things{target="b",k="1"} 4',
        '',
        '# HELP x_empty Nothing yet.',
        '# TYPE x_empty counter',
        '',
        '# HELP x_scalar One.',
        '# TYPE x_scalar gauge',
        'x_scalar 7',
        '',
      ].join('\n'),
    );
  });

  it('keeps multi-byte text intact across buffer chunks and growth', () => {
    const sink = new BufferSink();
    const out = new ExpositionText(sink);
    const family = out.family('x_wide', 'Ünïcödé 😀 help.', 'gauge');
    let expected = '# HELP x_wide Ünïcödé 😀 help.\n# TYPE x_wide gauge\n';
    for (let i = 0; i < 20_000; i += 1) {
      const base = labelPair('target', `ziel-${i}-Ü😀`.repeat(1 + (i % 3)));
      family.sample(base, i);
      expected += `x_wide{${base}} ${i}\n`;
    }
    assert.ok(Buffer.byteLength(expected) > 1024 * 1024, 'large enough to grow the buffer several times');
    assert.equal(out.toString(), expected);
    assert.equal(sink.byteLength, Buffer.byteLength(expected));
  });

  it('copies pre-rendered UTF-8 bytes as they are: ranges, chunk boundaries, a run longer than a chunk', () => {
    const sink = new BufferSink();
    const out = new ExpositionText(sink);
    const block = Buffer.from('x_a{t="Ü"} 1\nx_b{t="😀"} 2\n');
    const split = Buffer.byteLength('x_a{t="Ü"} 1\n');
    const huge = Buffer.from(`x_huge{t="${'é'.repeat(100_000)}"} 3\n`);
    let expected = '';
    for (let i = 0; i < 5_000; i += 1) {
      out.appendBytes(block, 0, split);
      out.append(`x_s{i="${i}"} ${i}\n`);
      out.appendBytes(block, split);
      expected += `x_a{t="Ü"} 1\nx_s{i="${i}"} ${i}\nx_b{t="😀"} 2\n`;
      if (i === 2_500) {
        out.appendBytes(huge);
        expected += huge.toString('utf8');
      }
    }
    assert.ok(huge.length > 64 * 1024 && Buffer.byteLength(expected) > 4 * 64 * 1024);
    assert.equal(out.toString(), expected);
    assert.equal(sink.byteLength, Buffer.byteLength(expected));
  });

  it('each() gives the event loop a turn when a slice ran long, and waits while the sink is full', async () => {
    const busy = (ms: number): void => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    let turns = 0;
    const counter = setInterval(() => (turns += 1), 0);
    const out = new ExpositionText(new BufferSink());
    await out.each(Array.from({ length: 100 }, (_, i) => i), () => busy(1)); // 100 ms of work in 1 ms items
    clearInterval(counter);
    assert.ok(turns >= 1, 'timers ran while the items were written');

    const written: Buffer[] = [];
    let release: () => void = () => undefined;
    const full = new ExpositionText({
      write: (chunk) => {
        written.push(chunk);
        return false; // always "full": every chunk waits for drained()
      },
      drained: () => new Promise((resolve) => (release = resolve)),
    });
    const items = Array.from({ length: 2_000 }, (_, i) => `x_line{i="${i}"} ${i}\n`.repeat(20));
    let finished = false;
    const done = full.each(items, (text) => full.append(text)).then(() => (finished = true));
    const turns3 = async (): Promise<void> => {
      for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
    };
    await turns3();
    assert.equal(written.length, 1, 'no second chunk before the sink drained');
    while (!finished) {
      const chunks = written.length;
      release();
      await turns3();
      assert.ok(written.length <= chunks + 1, 'one chunk per drain');
    }
    await done;
    full.flush();
    assert.ok(written.length > 5);
    assert.equal(Buffer.concat(written).toString('utf8'), items.join(''));
  });

  it('each() gives timers a turn even when a sink that keeps filling drains at once (no event-loop turn in between)', async () => {
    const busy = (ms: number): void => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    // Full after every chunk, drained by the next microtask: as a loopback socket or the gzip thread can be.
    const out = new ExpositionText({ write: () => false, drained: () => Promise.resolve() });
    let turns = 0;
    const counter = setInterval(() => (turns += 1), 1);
    const text = 'x'.repeat(20_000); // a chunk of 64 KiB fills every ~3 items
    await out.each(Array.from({ length: 2_000 }, (_, i) => i), () => {
      out.append(text);
      busy(0.05);
    }); // ~100 ms of work
    clearInterval(counter);
    // Load-independent: a render that never yields lets no timer run, however fast the machine.
    assert.ok(turns >= 3, `timers ran ${turns} times while the items were written`);
  });

  it('fills a chunk again only after the sink released it, and never hands one chunk out twice', () => {
    const line = (i: number): string => `x_line{i="${i}",pad="${'p'.repeat(60)}"} ${i}\n`;
    const lines = Array.from({ length: 12_000 }, (_, i) => line(i)); // ~1 MB: ~16 chunks
    const expected = lines.join('');
    const run = (policy: 'at once' | 'never' | 'twice' | 'at the end') => {
      const held: { chunk: Buffer; copy: string; release?: () => void }[] = [];
      const out = new ExpositionText({
        write: (chunk, release) => {
          held.push({ chunk, copy: chunk.toString('utf8'), release });
          if (policy === 'at once') release?.();
          if (policy === 'twice') {
            release?.();
            release?.();
          }
          return true;
        },
        drained: () => Promise.resolve(),
      });
      for (const text of lines) out.append(text);
      out.flush();
      // Every chunk still holds what it held when written, unless it was released (and so refilled).
      if (policy !== 'at once' && policy !== 'twice') {
        assert.equal(held.map((h) => h.chunk.toString('utf8')).join(''), expected, `${policy}: a held chunk was overwritten`);
      }
      assert.equal(held.map((h) => h.copy).join(''), expected, policy);
      for (const h of held) h.release?.();
      return new Set(held.map((h) => h.chunk.buffer)).size;
    };
    assert.ok(run('never') >= 15, 'without releases every chunk is a new one');
    assert.ok(run('at the end') >= 15, 'released only at the end: none reused during the render');
    assert.ok(run('at once') <= 2, 'released at once: the render alternates between two chunks');
    assert.ok(run('twice') <= 2, 'a second release of the same chunk changes nothing');
    // After 'twice', the spare chunks are distinct: a render holding all of its chunks sees no chunk twice.
    assert.ok(run('at the end') >= 15);
  });

  it('refuses a family started while the previous one is still being written', async () => {
    let open = false;
    let release: () => void = () => undefined;
    const drained = (): Promise<void> => (open ? Promise.resolve() : new Promise((resolve) => (release = resolve)));
    const out = new ExpositionText({ write: () => open, drained });
    const first = out.family('x_a', 'A.', 'gauge');
    const pending = out.each(Array.from({ length: 64 }, (_, i) => i), (i) => first.sample(`i="${i}"`.repeat(1_000), i));
    assert.throws(() => out.family('x_b', 'B.', 'gauge'), /not awaited/);
    open = true;
    release();
    await pending;
  });

  it('TextRegistry puts the written families first, then what is registered with prom-client', async () => {
    const written = (out: ExpositionText): void => out.family('x_own', 'Ours.', 'gauge').sample('', 1);
    const alone = new TextRegistry(written);
    assert.equal(await alone.metrics(), '# HELP x_own Ours.\n# TYPE x_own gauge\nx_own 1\n');
    assert.equal(alone.contentType, Registry.PROMETHEUS_CONTENT_TYPE);

    const both = new TextRegistry(written);
    const reference = new Registry();
    for (const registry of [both, reference]) {
      new Histogram({ name: 'x_pc', help: 'prom-client\'s.', buckets: [1], registers: [registry] }).observe(0.5);
    }
    assert.equal(await both.metrics(), `# HELP x_own Ours.\n# TYPE x_own gauge\nx_own 1\n\n${await reference.metrics()}`);
  });
});

describe('stage latency histogram', () => {
  it('writes exactly what prom-client’s Histogram wrote, series removal and re-creation included', async () => {
    const ours = new StageLatencyHistogram('x_latency_seconds', 'Latency "of" stages\\.', STAGE_LATENCY_BUCKETS);
    const registry = new Registry();
    const theirs = new Histogram({
      name: 'x_latency_seconds',
      help: 'Latency "of" stages\\.',
      labelNames: ['target', 'phase'],
      buckets: STAGE_LATENCY_BUCKETS,
      registers: [registry],
    });
    const observe = (target: string, stage: 'connect' | 'login', seconds: number): void => {
      ours.observe(target, stage, seconds);
      theirs.observe({ target, phase: stage }, seconds);
    };
    // On every bound, between bounds, above the last, and sums that do not add up exactly in binary.
    for (const seconds of [0, ...STAGE_LATENCY_BUCKETS, 0.0051, 0.3, 0.1 + 0.2, 29.999, 31, 1e6]) observe('a', 'connect', seconds);
    observe('odd "b"\\\n', 'login', 0.07);
    observe('a', 'login', 2);
    observe('c', 'connect', 0.02);
    ours.retain(new Set(['odd "b"\\\n', 'c']));
    theirs.remove({ target: 'a', phase: 'connect' });
    theirs.remove({ target: 'a', phase: 'login' });
    observe('a', 'connect', 0.4); // back after its removal: last, from zero

    const out = new ExpositionText();
    await ours.writeTo(out);
    assert.equal(out.toString(), await registry.metrics());
  });

  it('writes a series again after observations that make its lines shorter, longer, or longer than its memory', async () => {
    const ours = new StageLatencyHistogram('x_latency_seconds', 'Latency.', STAGE_LATENCY_BUCKETS);
    const registry = new Registry();
    const theirs = new Histogram({ name: 'x_latency_seconds', help: 'Latency.', labelNames: ['target', 'phase'], buckets: STAGE_LATENCY_BUCKETS, registers: [registry] });
    const longName = `imap-${'x'.repeat(20_000)}.example.net`; // lines longer than what is rewritten in place
    const observe = (seconds: number, times = 1): void => {
      for (let i = 0; i < times; i += 1) {
        for (const target of ['a', longName]) {
          ours.observe(target, 'login', seconds);
          theirs.observe({ target, phase: 'login' }, seconds);
        }
      }
    };
    const rounds: [number, number][] = [[0.123456789, 1], [0.5, 1], [0.001, 9], [7, 990], [0.25, 100_000]];
    const first = new ExpositionText();
    for (const [seconds, times] of rounds) {
      observe(seconds, times);
      const out = new ExpositionText();
      await ours.writeTo(out);
      assert.equal(out.toString(), await registry.metrics(), `after ${times} × ${seconds} s`);
      if (first.toString() === '') await ours.writeTo(first);
    }
    assert.match(first.toString(), /x_latency_seconds_count\{target="a",phase="login"\} 1\n/, 'text written earlier stays as it was');
  });
});

/** A compressor that compresses when told: what is offered waits in `waiting`. */
class HeldCompressor implements SegmentCompressor {
  readonly level = 1;
  readonly waiting: [() => Uint8Array | undefined, (piece: Deflated) => void][] = [];
  later(text: () => Uint8Array | undefined, keep: (piece: Deflated) => void): void {
    this.waiting.push([text, keep]);
  }
  /** Takes the text of each one waiting and compresses it; `between` runs after that, before the pieces are kept. */
  run(between?: () => void): void {
    const taken = this.waiting.splice(0).map(([text, keep]) => {
      const bytes = text();
      return [bytes && { data: deflateRawSync(bytes, { level: 1, finishFlush: constants.Z_SYNC_FLUSH }), level: 1, crc: crc32(bytes), length: bytes.length }, keep] as const;
    });
    between?.();
    for (const [piece, keep] of taken) if (piece) keep(piece);
  }
}

describe('stage latency histogram, gzipped', () => {
  const gzip = new BackgroundGzip(1);

  async function plain(histogram: StageLatencyHistogram): Promise<string> {
    const out = new ExpositionText();
    await histogram.writeTo(out);
    return out.toString();
  }

  /** A gzipped scrape of `histogram`, gunzipped; how many pieces went compressed already, and how many the scrape compressed. */
  async function gzipped(histogram: StageLatencyHistogram, background: SegmentCompressor): Promise<{ text: string; kept: number; compressed: number }> {
    const pieces: Buffer[] = [];
    const stream = gzip.sink({ write: (piece) => pieces.push(Buffer.from(piece)) > 0, drained: () => Promise.resolve() });
    const counts = { kept: 0, compressed: 0 };
    const sink: ChunkSink = {
      write: (chunk, release) => stream.write(chunk, release),
      drained: () => stream.drained(),
      deflate: {
        level: 1,
        background,
        writeDeflated: (piece) => (counts.kept += 1, stream.deflate.writeDeflated(piece)),
        writeSegment: (text, keep) => (counts.compressed += 1, stream.deflate.writeSegment(text, keep)),
      },
    };
    const out = new ExpositionText(sink);
    await histogram.writeTo(out);
    out.flush();
    await stream.finish();
    return { text: gunzipSync(Buffer.concat(pieces)).toString(), ...counts };
  }

  it('writes a target as one piece, compressed between scrapes once after its lines change, and kept until they change again', async () => {
    const histogram = new StageLatencyHistogram('x_latency_seconds', 'Latency.', STAGE_LATENCY_BUCKETS);
    for (const target of ['a', 'b', 'c']) for (const stage of ['connect', 'login'] as const) histogram.observe(target, stage, 0.1);
    const held = new HeldCompressor();
    let scrape = await gzipped(histogram, held);
    assert.equal(scrape.text, await plain(histogram));
    assert.deepEqual([scrape.kept, scrape.compressed], [0, 3], 'each target compressed by the scrape');
    assert.equal(held.waiting.length, 0, 'the scrape brought the compressor, and kept what it compressed itself');
    scrape = await gzipped(histogram, held);
    assert.equal(scrape.text, await plain(histogram));
    assert.deepEqual([scrape.kept, scrape.compressed], [3, 0], 'all kept from the first scrape');

    histogram.observe('b', 'connect', 0.2); // a probe of b: two stages
    histogram.observe('b', 'login', 3);
    assert.equal(held.waiting.length, 1, 'b offered once for both');
    scrape = await gzipped(histogram, held);
    assert.equal(scrape.text, await plain(histogram), 'b as it is now');
    assert.deepEqual([scrape.kept, scrape.compressed], [2, 1]);

    // b changes after the compressor took its text, before the piece comes back: that piece is not b's any more.
    held.run(() => histogram.observe('b', 'login', 0.01));
    assert.equal(held.waiting.length, 1, 'b offered again');
    scrape = await gzipped(histogram, held);
    assert.equal(scrape.text, await plain(histogram), 'b with its latest observation');
    assert.deepEqual([scrape.kept, scrape.compressed], [2, 1]);

    histogram.retain(new Set(['a', 'b']), new Set(['login']));
    held.run();
    scrape = await gzipped(histogram, held);
    assert.equal(scrape.text, await plain(histogram), 'c and the connect series gone');
    assert.doesNotMatch(scrape.text, /target="c"|phase="connect"/);
    assert.deepEqual([scrape.kept, scrape.compressed], [2, 0], 'what changed was offered again');
  });
});

describe('/metrics as a whole', () => {
  it('is what prom-client’s own formatter writes for the same samples', async () => {
    const jobs = [job('courier', 'probe-user'), job('anon'), job('odd "t"\\\nx', 'a\nb"\\')];
    const results = new ResultStore();
    const registry = createMetricsRegistry({
      results,
      jobs: () => jobs,
      buildInfo: { version: '1 "x"', nodeVersion: 'v20' },
      reloadState: () => ({ lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1_750_000_000.5 }),
      processMetrics: false,
    });
    for (const [i, j] of jobs.entries()) results.record(j, sampleResult(j.target, j.account, i));
    const text = await registry.metrics();

    // Re-render the parsed samples through prom-client's Registry formatting, family by family.
    const { samples, help, types } = parseExpositionFull(text);
    const reference = new Registry();
    for (const [name, type] of types) {
      const own = samples.filter((s) => s.name === name || (type === 'histogram' && /^(.*)_(bucket|sum|count)$/.exec(s.name)?.[1] === name));
      const values = own.map((s) => ({ metricName: s.name, labels: s.labels, value: s.value }));
      const metric = { name, help: help.get(name), type, get: () => Promise.resolve({ name, help: help.get(name), type, values }) };
      reference.registerMetric(metric as unknown as Metric);
    }
    assert.equal(text, await reference.metrics());
    assert.ok(text.includes('imap_mailbox_messages{target="odd \\"t\\"\\\\\\nx",account="a\\nb\\"\\\\",mailbox="Ünï \\"c\\""} 3'));
    const { code, output } = await promtoolCheck(text);
    assert.equal(code, 0, output);
  });
});

function sampleResult(target: string, account: string | undefined, i: number): ProbeResult {
  const stages = (['resolve', 'connect', 'greeting', 'starttls', 'login'] as const).map((stage, s) => ({
    stage,
    success: !(i === 0 && stage === 'login'),
    durationSeconds: (s + 1) / 30 + i,
  }));
  return {
    target,
    account,
    success: i !== 0,
    startedAt: 1_760_000_000_000,
    endedAt: 1_760_000_000_123 + i,
    durationSeconds: stages.reduce((sum, s) => sum + s.durationSeconds, 0),
    stages,
    failure: i === 0 ? { stage: 'login', reason: 'auth_failed', hint: 'h', detail: 'd' } : undefined,
    facts: {
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', certNotAfter: 1_790_000_000, authorized: true },
      capabilities: ['IMAP4rev1', 'IDLE', 'idle', 'AUTH=PLAIN'],
      mailbox: { name: 'Ünï "c"', exists: 3, recent: 0, uidValidity: 7, writable: i % 2 === 0 },
      lists: [
        { reference: '', pattern: '*', folders: [] },
        { reference: 'x\\', pattern: '%', folders: [{ name: 'a', delimiter: '/', flags: [] }] },
      ],
    },
    transcript: [],
  };
}
