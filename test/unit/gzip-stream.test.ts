import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { crc32, crc32Combine, crc32InJs } from '../../src/http/crc32.js';
import { BackgroundGzip } from '../../src/http/gzip-stream.js';
import type { ChunkSink, Deflated } from '../../src/metrics/exposition.js';

/** Keeps every byte it is given. */
class Collect implements ChunkSink {
  readonly chunks: Buffer[] = [];
  write(chunk: Buffer): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Exposition-like text: repetitive, as /metrics is, with some variety so it does not compress to nothing. */
function text(lines: number): Buffer {
  let out = '';
  for (let i = 0; i < lines; i += 1) out += `imap_probe_phase_success{target="imap-${i % 997}.example.net",account="probe-${i % 7}",phase="login"} ${i % 3}\n`;
  return Buffer.from(out);
}

async function gzipChunks(gzip: BackgroundGzip, chunks: Buffer[], inner = new Collect()): Promise<Collect> {
  const sink = gzip.sink(inner);
  for (const chunk of chunks) if (!sink.write(chunk)) await sink.drained();
  await sink.finish();
  return inner;
}

/** The nice value of each of this process's threads (field 19 of /proc/self/task/TID/stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('gzip on a background thread', () => {
  it('makes one gzip stream of the chunks, in order, that gunzip checks (CRC and length) and restores byte for byte', async () => {
    const gzip = new BackgroundGzip(1);
    const whole = text(30_000); // ~3 MB
    const large = Buffer.alloc(whole.length + 100, 0x78);
    whole.copy(large, 50);
    // 64 KiB chunks, one larger than that, and views into a larger buffer (only the view's bytes count).
    const chunks: Buffer[] = [];
    for (let at = 0; at < 1_000_000; at += 65_536) chunks.push(whole.subarray(at, Math.min(at + 65_536, 1_000_000)));
    chunks.push(large.subarray(50 + 1_000_000, 50 + 1_400_000));
    chunks.push(whole.subarray(1_400_000));
    const gzipped = (await gzipChunks(gzip, chunks)).bytes();
    assert.deepEqual(gunzipSync(gzipped), whole);
    assert.ok(gzipped.length < whole.length / 5, `compressed ${whole.length} to ${gzipped.length} bytes`);
  });

  it('keeps streams apart when several run at once and the thread gives chunk memory back for reuse', async () => {
    const gzip = new BackgroundGzip(1);
    const bodies = [text(9_000), Buffer.from(text(7_000).toString().toUpperCase()), text(11_000).reverse()];
    const inners = bodies.map(() => new Collect());
    const sinks = bodies.map((_, i) => gzip.sink(inners[i]!));
    const releases = bodies.map(() => 0);
    // Chunk by chunk in turn, so that memory one stream gave back is filled by another.
    for (let at = 0; bodies.some((body) => at < body.length); at += 65_536) {
      for (const [i, body] of bodies.entries()) {
        if (at >= body.length) continue;
        if (!sinks[i]!.write(body.subarray(at, at + 65_536), () => (releases[i]! += 1))) await sinks[i]!.drained();
      }
    }
    await Promise.all(sinks.map((sink) => sink.finish()));
    for (const [i, body] of bodies.entries()) {
      assert.deepEqual(gunzipSync(inners[i]!.bytes()), body, `stream ${i}`);
      assert.equal(releases[i], Math.ceil(body.length / 65_536), `stream ${i}: each chunk released once, after its copy`);
    }
  });

  it('takes segments to keep and pieces kept from an earlier stream, anywhere in a stream, first included', async () => {
    const gzip = new BackgroundGzip(1);
    const [one, two, three] = [text(500), Buffer.from(text(800).toString().toUpperCase()), text(300).reverse()] as [Buffer, Buffer, Buffer];
    const kept = new Map<Buffer, Deflated>();
    const keep = (segment: Buffer) => (piece: Deflated): void => void kept.set(segment, piece);
    const small = Buffer.from('# TYPE imap_probe_success gauge\n'); // goes in stored, without the thread
    const first = new Collect();
    const a = gzip.sink(first);
    a.deflate.writeSegment(one, keep(one)); // the stream's first piece: after the gzip header
    a.write(small);
    a.write(three);
    a.deflate.writeSegment(two, keep(two));
    await a.finish();
    assert.deepEqual(gunzipSync(first.bytes()), Buffer.concat([one, small, three, two]));
    for (const segment of [one, two]) {
      const piece = kept.get(segment) as Deflated;
      // Ended by an empty final block, as the stream's end ends it.
      assert.deepEqual(inflateRawSync(Buffer.concat([piece.data, Uint8Array.of(3, 0)])), segment, 'a kept piece is the segment alone, raw deflate');
      assert.deepEqual([piece.level, piece.crc, piece.length], [1, crc32(segment), segment.length]);
    }
    const second = new Collect();
    const b = gzip.sink(second);
    b.deflate.writeDeflated(kept.get(two) as Deflated); // first again, now as a kept piece
    b.write(small);
    b.write(three);
    b.deflate.writeDeflated(kept.get(one) as Deflated);
    b.deflate.writeDeflated(kept.get(two) as Deflated);
    await b.finish();
    assert.deepEqual(gunzipSync(second.bytes()), Buffer.concat([two, small, three, one, two]), 'gunzip checks the combined CRC and the length');
  });

  it('puts kept pieces and small chunks into the stream itself, without a trip to the thread', async () => {
    const segment = text(400);
    let piece: Deflated | undefined;
    const keeping = new BackgroundGzip(1).sink(new Collect());
    keeping.deflate.writeSegment(segment, (kept) => (piece = kept));
    await keeping.finish();
    // A thread that dies as it starts: the stream below is over before its death is known, and never needs it.
    const noThread = new BackgroundGzip(1, new URL('data:text/javascript,throw new Error("boom")'));
    const small = Buffer.from('# HELP imap_probe_success 1 if the probe succeeded\n');
    const body = new Collect();
    const stream = noThread.sink(body);
    stream.deflate.writeDeflated(piece as Deflated);
    stream.write(small);
    stream.deflate.writeDeflated(piece as Deflated);
    await stream.finish();
    assert.deepEqual(gunzipSync(body.bytes()), Buffer.concat([segment, small, segment]));
  });

  it('compresses segments between scrapes: each text taken a turn after it was offered, and skipped when no longer wanted', async () => {
    const gzip = new BackgroundGzip(1);
    const segments = Array.from({ length: 40 }, (_, i) => Buffer.from(text(50 + i).toString().replace(/probe/g, `p${i}`)));
    const kept = new Map<number, Deflated>();
    const taken: number[] = [];
    for (const [i, segment] of segments.entries()) {
      gzip.background.later(
        () => {
          taken.push(i);
          return i % 10 === 9 ? undefined : segment; // every tenth no longer wanted when its turn comes
        },
        (piece) => void kept.set(i, piece),
      );
    }
    segments[0]?.fill(0x41, 0, 5); // changed in the same turn it was offered: its text as it is now
    assert.deepEqual(taken, [], 'nothing taken in the turn it was offered');
    await gzip.background.idle();
    assert.deepEqual(taken, segments.map((_, i) => i), 'taken in order');
    assert.deepEqual([...kept.keys()].sort((a, b) => a - b), segments.map((_, i) => i).filter((i) => i % 10 !== 9));
    for (const [i, piece] of kept) {
      const segment = segments[i] as Buffer;
      assert.deepEqual(inflateRawSync(Buffer.concat([piece.data, Uint8Array.of(3, 0)])), segment, `segment ${i}`);
      assert.deepEqual([piece.level, piece.crc, piece.length], [1, crc32(segment), segment.length]);
    }
    // Kept pieces make a stream together.
    const body = new Collect();
    const stream = gzip.sink(body);
    for (const piece of kept.values()) stream.deflate.writeDeflated(piece);
    await stream.finish();
    assert.deepEqual(gunzipSync(body.bytes()), Buffer.concat([...kept.keys()].map((i) => segments[i] as Buffer)));
  });

  it('ends an empty body as a valid empty gzip stream', async () => {
    const gzipped = (await gzipChunks(new BackgroundGzip(1), [])).bytes();
    assert.equal(gunzipSync(gzipped).length, 0);
  });

  it('waits for a full inner sink before taking more, and keeps the order', async () => {
    const got: Buffer[] = [];
    let release: (() => void) | undefined;
    let fullTimes = 0;
    let overruns = 0;
    const slow: ChunkSink = {
      write(chunk) {
        if (release !== undefined) overruns += 1; // written to before the last drain came
        got.push(Buffer.from(chunk));
        fullTimes += 1;
        return false; // always full: every piece must wait for drained()
      },
      drained() {
        return new Promise((resolve) => (release = resolve));
      },
    };
    const gzip = new BackgroundGzip(1);
    const sink = gzip.sink(slow);
    const whole = text(20_000);
    const chunks = Array.from({ length: Math.ceil(whole.length / 65_536) }, (_, i) => whole.subarray(i * 65_536, (i + 1) * 65_536));
    let finished = false;
    const writer = (async () => {
      for (const chunk of chunks) if (!sink.write(chunk)) await sink.drained();
      await sink.finish();
      finished = true;
    })();
    // Drain the inner sink by hand, one piece at a time, until the stream has ended.
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const r = release;
      release = undefined;
      r?.();
    }
    await writer;
    assert.equal(overruns, 0, 'never written to while full');
    assert.ok(fullTimes > 2, `the output came in several writes, each after a drain (${fullTimes})`);
    assert.deepEqual(gunzipSync(Buffer.concat(got)), whole);
  });

  it('runs below the event loop\'s CPU priority', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
    const atTen = (nices: number[]): number => nices.filter((nice) => nice === 10).length;
    const before = threadNices(); // the threads of the tests above are still there
    await gzipChunks(new BackgroundGzip(1), [text(100)]); // large enough to be compressed there, not stored
    const after = threadNices();
    assert.equal(atTen(after), atTen(before) + 1, `one more thread at nice 10: ${before.join(' ')} → ${after.join(' ')}`);
    assert.equal(after[0], 0, 'the main thread keeps its priority');
  });

  it('fails its streams, without crashing the process, when the thread dies; the next stream gets a new thread', async () => {
    const dying = new BackgroundGzip(1, new URL('data:text/javascript,throw new Error("boom")'));
    await assert.rejects(gzipChunks(dying, [text(100)]), /gzip thread (failed: boom|exited)/);
    await assert.rejects(gzipChunks(dying, [text(100)]), /gzip thread/, 'a new thread for the next stream (it dies too)');
    let kept = false;
    dying.background.later(() => text(10), () => (kept = true));
    await dying.background.idle(); // the segment in flight is given up with the thread, not waited for
    assert.equal(kept, false);
  });
});

describe('crc32 in JavaScript', () => {
  it('matches the check value and continues across pieces', () => {
    assert.equal(crc32InJs(Buffer.from('123456789')), 0xcbf43926);
    const data = text(1000);
    assert.equal(crc32InJs(data.subarray(13), crc32InJs(data.subarray(0, 13))), crc32InJs(data));
    assert.equal(crc32InJs(Buffer.alloc(0)), 0);
  });

  it('combines the CRCs of two pieces into the CRC of both', () => {
    const data = text(3000);
    for (const cut of [0, 1, 13, 65_536, data.length - 1, data.length]) {
      const [a, b] = [data.subarray(0, cut), data.subarray(cut)];
      assert.equal(crc32Combine(crc32InJs(a), crc32InJs(b), b.length), crc32InJs(data), `cut at ${cut}`);
    }
  });
});
