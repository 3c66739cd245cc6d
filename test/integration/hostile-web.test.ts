// The web side under abuse: 300 concurrent /probe within --probe.concurrency (the rest
// queue, then 503), no MaxListenersExceededWarning, the effective deadline in /probe?debug;
// 1,000 idle web connections under a lowered fd limit cannot starve the probes;
// SIGTERM answers an in-flight /probe; SIGHUP during shutdown is ignored; a second SIGTERM
// exits at once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { minimalImap, silent, startFakeImapServer, type FakeHandler, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { find, select } from '../helpers/exposition.js';

let dir: string;
const servers: FakeImapServer[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-web-'));
});
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await rm(dir, { recursive: true, force: true });
});

async function serve(handler: FakeHandler): Promise<FakeImapServer> {
  const server = await startFakeImapServer(handler);
  servers.push(server);
  return server;
}

async function daemonFor(name: string, targets: string[], args: string[] = [], launcher: string[] = []): Promise<RunningDaemon> {
  const config = join(dir, `${name}.yaml`);
  await writeFile(config, `defaults:\n  tls: none\ntargets:\n${targets.join('')}`);
  return startDaemon(config, args, {}, 'ready', launcher);
}

const target = (name: string, server: FakeImapServer, extra = '') =>
  `  - { name: ${name}, host: ${server.host}, port: ${server.port}${extra} }\n`;

function openIdle(port: number, count: number): Promise<Socket[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<Socket>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  })));
}

describe('300 concurrent /probe', () => {
  it('run within --probe.concurrency, queue, then 503 with a clear message; no listener warning; debug shows the effective deadline', async () => {
    let open = 0;
    let most = 0;
    const slow = await serve(async (conn) => {
      open += 1;
      most = Math.max(most, open);
      try {
        await conn.delay(300);
        await minimalImap()(conn);
      } finally {
        open -= 1;
      }
    });
    const targets = Array.from({ length: 300 }, (_, i) => target(`t${i}`, slow, ', interval: 24h'));
    const daemon = await daemonFor('burst', targets, ['--probe.concurrency=20']);
    try {
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => daemon.get(`/probe?target=t${i}`)));
      const ok = answers.filter((a) => a.status === 200);
      const busy = answers.filter((a) => a.status === 503);
      assert.equal(ok.length + busy.length, 300, answers.map((a) => `${a.status} ${a.text}`).find((t) => !/^(200|503)/.test(t)));
      assert.ok(ok.length >= 20, `${ok.length} answered`);
      assert.ok(busy.length > 0, 'the queue filled up');
      assert.match(busy[0]!.text, /^too many probes at once, try again later: 20 probes running and 20 \/probe requests waiting already/);
      // Scheduled runs (a day apart, spread over it) take their slots from the same budget.
      assert.ok(most <= 20, `${most} upstream connections at once`);
      assert.ok(ok.every((a) => /imap_probe_success\{target="t\d+"\} 1/.test(a.text)));
      const debug = await daemon.get('/probe?target=t1&debug=true', { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '2' } });
      assert.match(debug.text, /timeout 1\.5s \(configured 10s, cut by the scrape timeout header\)/);
      assert.doesNotMatch(daemon.logs(), /MaxListenersExceededWarning|Warning:/);
    } finally {
      await daemon.stop('SIGKILL');
    }
  });
});

describe('1,000 idle web connections under a lowered fd limit', () => {
  it('the connection cap keeps descriptors for the probes: a good target keeps passing', async () => {
    const good = await serve(minimalImap());
    const daemon = await daemonFor('idle', [target('good', good, ', interval: 1s, timeout: 800ms')], [], ['prlimit', '--nofile=256', '--']);
    const idle = await openIdle(Number(new URL(daemon.url).port), 1000);
    const floodAt = Date.now() / 1000;
    try {
      // While the cap (128 = half of 256) holds the web side full, probes go on.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      idle.forEach((socket) => socket.destroy());
    }
    const samples = await daemon.waitFor('the web side to answer again', async () => daemon.scrape());
    assert.ok((find(samples, 'imap_probe_last_success_timestamp_seconds', { target: 'good' })?.value ?? 0) > floodAt + 1, 'probes passed during the flood');
    assert.deepEqual(select(samples, 'imap_probe_failures_total', { target: 'good' }), []);
    assert.equal(find(samples, 'imap_exporter_errors_total', { kind: 'fd_exhausted' })?.value, 0);
    assert.equal((await daemon.stop()).code, 0);
  });

  it('out of descriptors anyway: not blamed on the server, logged, counted, /probe answers 503', async () => {
    const good = await serve(minimalImap());
    // No cap from the exporter (--web.max-connections far above the limit), so idle web connections can take every fd.
    const daemon = await daemonFor('emfile', [target('good', good, ', interval: 1s, timeout: 800ms')], ['--web.max-connections=100000']);
    const pid = daemon.child.pid!;
    await daemon.waitFor('a first probe', async () => find(await daemon.scrape(), 'imap_probe_success', { target: 'good' }));
    // One keep-alive connection opened before the flood, to ask /probe on when no new one can be accepted.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const idle: Socket[] = [];
    try {
      assert.equal((await request(daemon.url, '/-/healthy', agent)).status, 200);
      // The limit, lowered at run time to just above what the daemon holds now: exhaustion is certain, not a race.
      const limit = openFds(pid) + 24;
      execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${limit}:${limit}`]);
      const floodAt = Date.now() / 1000;
      idle.push(...(await openIdle(Number(new URL(daemon.url).port), 64)));
      await daemon.waitFor('the daemon to run out of descriptors', async () => (openFds(pid) >= limit - 1 ? true : undefined));
      await daemon.waitFor('a scheduled probe to hit the limit', async () => (/"kind":"fd_exhausted"/.test(daemon.logs()) ? true : undefined));
      const probe = await request(daemon.url, '/probe?target=good', agent);
      assert.equal(probe.status, 503, probe.text);
      assert.match(probe.text, /ran out of file descriptors: this probe says nothing about the server/);
      idle.forEach((socket) => socket.destroy());
      const samples = await daemon.waitFor('the web side to answer again', async () => daemon.scrape());
      assert.ok((find(samples, 'imap_exporter_errors_total', { kind: 'fd_exhausted' })?.value ?? 0) >= 2, 'the scheduled and the /probe run counted');
      // Never a probe failure blamed on the server: the job kept its last result.
      assert.deepEqual(select(samples, 'imap_probe_failures_total', { target: 'good' }), []);
      assert.equal(find(samples, 'imap_probe_success', { target: 'good' })?.value, 1);
      assert.match(daemon.logs(), /probe not recorded: the exporter ran out of file descriptors/);
      assert.doesNotMatch(daemon.logs(), /"reason":"protocol_error"|"reason":"connect_refused"/);
      await daemon.waitFor('probes passing again', async () =>
        ((find(await daemon.scrape(), 'imap_probe_last_success_timestamp_seconds', { target: 'good' })?.value ?? 0) > floodAt ? true : undefined));
      assert.equal((await daemon.stop()).code, 0);
    } finally {
      idle.forEach((socket) => socket.destroy());
      agent.destroy();
      await daemon.stop('SIGKILL'); // after a failure: no daemon left behind
    }
  });
});

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A GET over `agent` (node:http, so the keep-alive socket is the one reused). */
function request(base: string, path: string, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = get(new URL(path, base), { agent, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in 10 s`)));
    req.on('error', reject);
  });
}

describe('signals', () => {
  it('SIGTERM answers an in-flight /probe before closing', async () => {
    const hung = await serve(silent());
    const daemon = await daemonFor('inflight', [target('hung', hung, ', interval: 24h, timeout: 20s')]);
    const answer = daemon.get('/probe?target=hung');
    await daemon.waitFor('the probe to connect', async () => (hung.openConnections() > 0 ? true : undefined));
    daemon.child.kill('SIGTERM');
    const { status, text } = await answer;
    assert.equal(status, 503);
    assert.equal(text, 'the exporter is shutting down: the probe was aborted\n');
    assert.equal(await daemon.exited, 0);
  });

  it('a SIGHUP during shutdown is ignored; a second SIGTERM exits at once', async () => {
    const good = await serve(minimalImap());
    const config = [target('good', good, ', interval: 24h')];
    // A request whose headers never end keeps the shutdown in its grace period (2 s).
    const halfRequest = (daemon: RunningDaemon) => new Promise<Socket>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(daemon.url).port) }, () => {
        socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
        resolve(socket);
      });
      socket.on('error', () => undefined);
    });
    const shuttingDown = (daemon: RunningDaemon) => daemon.waitFor('shutting down', async () => (/shutting down/.test(daemon.logs()) ? true : undefined));

    const first = await daemonFor('hup', config);
    const held = await halfRequest(first);
    first.child.kill('SIGTERM');
    await shuttingDown(first);
    first.child.kill('SIGHUP');
    await first.exited;
    held.destroy();
    assert.deepEqual([first.child.exitCode, first.child.signalCode], [0, null], first.logs());
    assert.match(first.logs(), /SIGHUP ignored: shutting down/);

    const second = await daemonFor('twice', config);
    const held2 = await halfRequest(second);
    second.child.kill('SIGTERM');
    await shuttingDown(second);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 1);
    held2.destroy();
    assert.match(second.logs(), /second stop signal: exiting at once/);
  });

});
