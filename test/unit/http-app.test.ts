import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { TextRegistry } from '../../src/metrics/exposition.js';
import { createApp } from '../../src/http/app.js';
import { findJob } from '../../src/http/jobs.js';
import { OnDemandProber } from '../../src/probe/on-demand.js';
import type { ProbeJob, ProbeResult, ProbeSpec } from '../../src/probe/types.js';
import { ResultStore } from '../../src/scheduler/results.js';

const spec = (account?: string): ProbeSpec => ({
  target: 't',
  host: '127.0.0.1',
  port: 143,
  tls: 'none',
  tlsConfig: { insecureSkipVerify: false },
  timeoutMs: 1000,
  ...(account
    ? { account: { name: account, username: account, auth: 'login', allowPlaintextAuth: true, mailbox: 'INBOX', list: [], password: () => Promise.resolve('x') } }
    : {}),
});
const job = (target: string, account?: string): ProbeJob => ({
  key: account ? `${target}/${account}` : target,
  target,
  ...(account ? { account } : {}),
  intervalMs: 60_000,
  spec: { ...spec(account), target },
});

describe('findJob: only configured jobs can be probed', () => {
  const jobs = [job('a'), job('b', 'alice'), job('b', 'bob')];
  it('finds configured jobs', () => {
    assert.deepEqual(findJob(jobs, 'a', undefined), { job: jobs[0] });
    assert.deepEqual(findJob(jobs, 'b', 'bob'), { job: jobs[2] });
  });
  it('without account on a target with accounts: an unauthenticated job of that target', () => {
    const found = findJob(jobs, 'b', undefined);
    assert.ok('job' in found);
    assert.equal(found.job.key, 'b');
    assert.equal(found.job.spec.account, undefined);
    assert.equal(found.job.spec.host, '127.0.0.1');
  });
  it('refuses what is not configured, naming the parameter', () => {
    for (const [target, account, message] of [
      [undefined, undefined, /"target" is required/],
      ['', undefined, /"target" is required/],
      ['c', undefined, /unknown target "c"/],
      ['b', 'carol', /unknown account "carol" for target "b"; configured: alice, bob/],
      [['a', 'b'], undefined, /"target" is required/],
      ['a', ['x', 'y'], /"account" must appear once/],
    ] as const) {
      const found = findJob(jobs, target, account);
      assert.ok('error' in found);
      assert.match(found.error, message);
    }
  });
});

describe('createApp', () => {
  let server: Server;
  let base: string;
  let configLoaded = false;
  const runs: ProbeSpec[] = [];
  before(async () => {
    const jobs = [job('a')];
    const result: ProbeResult = {
      target: 'a', success: true, startedAt: 0, endedAt: 1, durationSeconds: 0.001, stages: [], facts: { lists: [] }, transcript: [],
    };
    const app = createApp({
      registry: new TextRegistry(() => undefined),
      config: () => (configLoaded ? ({ path: 'x.yaml', current: { jobs }, lastReloadSuccessful: true } as never) : undefined),
      reload: () => Promise.resolve({ ok: false, error: 'x.yaml:3: targets[0]: bad' }),
      results: new ResultStore(),
      onDemand: new OnDemandProber((s) => {
        runs.push(s);
        return Promise.resolve(result);
      }),
      nextRunAt: () => undefined,
      logger: pino({ level: 'silent' }),
      version: 'test',
    });
    server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('/-/ready is 503 until a config is loaded, /-/healthy is 200 throughout', async () => {
    assert.equal((await fetch(`${base}/-/ready`)).status, 503);
    assert.equal((await fetch(`${base}/-/healthy`)).status, 200);
    assert.equal((await fetch(`${base}/probe?target=a`)).status, 503);
    configLoaded = true;
    assert.equal((await fetch(`${base}/-/ready`)).status, 200);
  });

  it('a failed reload is a 500 carrying the error', async () => {
    const response = await fetch(`${base}/-/reload`, { method: 'POST' });
    assert.equal(response.status, 500);
    assert.match(await response.text(), /x\.yaml:3: targets\[0\]: bad/);
  });

  it('caps a /probe by the scrape timeout header minus an offset', async () => {
    configLoaded = true;
    await fetch(`${base}/probe?target=a`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '0.8' } });
    assert.equal(runs.at(-1)?.timeoutMs, 300);
    await fetch(`${base}/probe?target=a`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '60' } });
    assert.equal(runs.at(-1)?.timeoutMs, 1000);
  });

  it('404 for unknown paths and methods', async () => {
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'DELETE' })).status, 404);
    assert.equal((await fetch(`${base}/-/reload`)).status, 404);
  });
});

describe('createApp: /probe outside express', () => {
  let server: Server;
  let base: string;
  let refuse = false;
  let explode = false;
  let renderFails = false;
  const logged: unknown[] = [];
  before(async () => {
    const result: ProbeResult = {
      target: 'a', success: true, startedAt: 0, endedAt: 1, durationSeconds: 0.001, stages: [], facts: { lists: [] }, transcript: [],
    };
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const app = createApp({
      registry: new TextRegistry(() => {
        if (renderFails) throw new Error('render failed');
      }),
      config: () => ({ path: 'x.yaml', current: { jobs: [job('a'), job('a', 'bob')] }, lastReloadSuccessful: true }) as never,
      reload: () => Promise.resolve({ ok: true, changed: false }),
      results: new ResultStore(),
      onDemand: new OnDemandProber(() => (explode ? Promise.reject(new Error('boom')) : Promise.resolve(result))),
      nextRunAt: () => undefined,
      logger,
      version: 'test',
      guard: (_req, res, next) => {
        res.setHeader('X-Guarded', 'yes');
        if (!refuse) return next();
        res.statusCode = 401;
        res.end('Unauthorized\n');
      },
    });
    server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('answers as the express route does: same status, type, length and body', async () => {
    const direct = await fetch(`${base}/probe?target=a`);
    const viaExpress = await fetch(`${base}/probe/?target=a`);
    const [directBody, expressBody] = [await direct.text(), await viaExpress.text()];
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(direct.headers.get('content-length'), String(Buffer.byteLength(directBody)));
    assert.equal(direct.headers.get('x-guarded'), 'yes');
    assert.match(directBody, /^imap_probe_success\{target="a"\} 1$/m);
    assert.equal(viaExpress.status, 200);
    assert.equal(viaExpress.headers.get('content-type'), direct.headers.get('content-type'));
    assert.equal(expressBody.replace(/ [\d.e-]+$/gm, ''), directBody.replace(/ [\d.e-]+$/gm, ''));
  });

  it('keeps the errors of a bad request: 400 with the reason, text/plain', async () => {
    for (const path of ['/probe', '/probe?target=nope', '/probe?target=a&account=x&account=y']) {
      const response = await fetch(base + path);
      assert.equal(response.status, 400, path);
      assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.match(await response.text(), /target|account/);
    }
    const unknown = await fetch(`${base}/probe?target=a&account=carol`);
    assert.match(await unknown.text(), /unknown account "carol" for target "a"; configured: bob/);
  });

  it('HEAD gets the headers without a body', async () => {
    const response = await fetch(`${base}/probe?target=a`, { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '');
  });

  it('runs the guard first: a refused request never probes', async () => {
    refuse = true;
    try {
      const response = await fetch(`${base}/probe?target=a`);
      assert.equal(response.status, 401);
      assert.equal(await response.text(), 'Unauthorized\n');
    } finally {
      refuse = false;
    }
  });

  it('/metrics is gzipped for a scraper that takes it, and a render failing before any byte is a plain 500', async () => {
    const gzipped = await fetch(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzipped.status, 200);
    assert.equal(gzipped.headers.get('content-encoding'), 'gzip');
    assert.match(gzipped.headers.get('vary') ?? '', /Accept-Encoding/i);
    assert.match(await gzipped.text(), /^# HELP|^$/, 'fetch gunzipped it');
    const plain = await fetch(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    assert.equal(plain.headers.get('content-encoding'), null);
    renderFails = true;
    try {
      const failed = await fetch(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(failed.status, 500);
      assert.equal(failed.headers.get('content-encoding'), null, 'an error text is not labelled gzip');
      assert.equal(await failed.text(), 'internal error: see the exporter log\n');
    } finally {
      renderFails = false;
    }
  });

  it('a handler that throws answers 500 and is logged, as under express', async () => {
    explode = true;
    try {
      const response = await fetch(`${base}/probe?target=a`);
      assert.equal(response.status, 500);
      assert.equal(await response.text(), 'internal error: see the exporter log\n');
      assert.ok(logged.some((entry) => (entry as { msg?: string; path?: string }).msg === 'HTTP handler failed' && (entry as { path?: string }).path === '/probe'));
    } finally {
      explode = false;
    }
  });
});
