import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { createApp } from '../../src/http/app.js';
import { createMetricsRegistry } from '../../src/metrics/collector.js';
import { SLICE_MS } from '../../src/metrics/exposition.js';
import { OnDemandProber } from '../../src/probe/on-demand.js';
import { ResultStore } from '../../src/scheduler/results.js';
import { parseExposition } from '../helpers/exposition.js';
import { makeJobs, makeResult } from '../fixtures/sample-results.js';

const JOBS = 2_000;
// A scrape must not hold /-/healthy back 250 ms. Seen here: 60-100 ms at worst idle, 116 ms with two
// CPU hogs on the 2 cores (the first, cold-JIT render is the slow one), so a margin of 2x
// under load. bench/scale-run.ts measures the stall at 10,000 jobs.
const MAX_WAIT_MS = 250;

describe(`/metrics with ${JOBS} jobs`, () => {
  let server: Server;
  let port: number;
  /** Start and end (performance.now()) of each render, wall time. */
  const renders: [number, number][] = [];
  before(async () => {
    const jobs = makeJobs(JOBS);
    const results = new ResultStore();
    const registry = createMetricsRegistry({
      results,
      jobs: () => jobs,
      buildInfo: { version: 'test', nodeVersion: process.version },
      reloadState: () => ({ lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1_760_000_000 }),
      eventLoopStall: () => ({ seconds: 0 }),
    });
    for (let run = 0; run < 3; run += 1) jobs.forEach((job, i) => results.record(job, makeResult(job, run, i)));
    const writeTo = registry.writeTo.bind(registry);
    registry.writeTo = async (sink) => {
      const started = performance.now();
      await writeTo(sink);
      renders.push([started, performance.now()]);
    };
    const app = createApp({
      registry,
      config: () => ({ path: 'x.yaml', current: { jobs }, lastReloadSuccessful: true }) as never,
      reload: () => Promise.resolve({ ok: true, changed: false }),
      results,
      onDemand: new OnDemandProber(),
      nextRunAt: () => undefined,
      logger: pino({ level: 'silent' }),
      version: 'test',
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers /-/healthy while a scrape is being rendered, never waiting long, and each scrape is whole', async () => {
    let scraping = true;
    const waits: number[] = [];
    const answeredAt: number[] = [];
    const poller = (async () => {
      while (scraping) {
        const started = performance.now();
        const { status } = await get(port, '/-/healthy');
        assert.equal(status, 200);
        answeredAt.push(performance.now());
        waits.push(performance.now() - started);
      }
    })();
    const bodies: { body: Buffer; encoding: string | undefined }[] = [];
    try {
      for (const encoding of ['gzip', undefined, 'gzip']) {
        // Uncompressed, the 10 MB body outruns the socket buffers: the render must wait for a slow reader.
        const { status, body, headers } = await get(port, '/metrics', encoding ? { 'accept-encoding': encoding } : {}, encoding ? 0 : 300);
        assert.equal(status, 200);
        assert.equal(headers['content-encoding'], encoding);
        bodies.push({ body, encoding });
      }
    } finally {
      scraping = false;
      await poller;
    }

    // Load-independent: a render that does not yield lets no request through, however fast the machine.
    // One shorter than a few slices may end before its first turn (a gzipped one from pieces
    // compressed earlier takes ~7 ms); the plain one waits for its slow reader, so at least one is long.
    assert.equal(renders.length, 3);
    const long = renders.filter(([start, end]) => end - start > 3 * SLICE_MS);
    assert.ok(long.length >= 1, `renders of ${renders.map(([start, end]) => (end - start).toFixed(0)).join(', ')} ms: none long enough to show it yields`);
    for (const [start, end] of long) {
      const during = answeredAt.filter((at) => at > start && at < end).length;
      assert.ok(during >= 1, `no /-/healthy answered during a ${(end - start).toFixed(0)} ms render`);
    }
    assert.ok(Math.max(...waits) < MAX_WAIT_MS, `longest /-/healthy wait ${Math.max(...waits).toFixed(0)} ms`);
    for (const { body, encoding } of bodies) {
      const samples = parseExposition((encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8'));
      const count = (name: string): number => samples.filter((s) => s.name === name).length;
      assert.equal(count('imap_probe_success'), JOBS);
      assert.equal(count('imap_probes_total'), JOBS);
      assert.equal(count('imap_exporter_build_info'), 1, 'the exporter families after the large ones');
      assert.equal(count('process_cpu_seconds_total'), 1, "prom-client's process metrics last");
    }
  });
});

/** `readAfterMs`: leave the body unread that long, as a slow scraper would (the server must wait for it). */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  readAfterMs = 0,
): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      if (readAfterMs > 0) {
        res.pause();
        setTimeout(() => res.resume(), readAfterMs);
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}
