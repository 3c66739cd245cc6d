// DNS that cannot block: 200 targets whose names hang at a resolver that never answers (a
// local UDP server, given with --dns.server) must not delay a good target, and SIGTERM
// still exits 0 promptly; `check` returns at its deadline with the same hung resolver.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { startFakeDns, type FakeDns } from '../fakes/fake-dns.js';
import { minimalImap, startFakeImapServer, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDaemon } from '../helpers/daemon.js';
import { find, select } from '../helpers/exposition.js';

const HUNG_NAMES = 200;
let dir: string;
let dns: FakeDns;
let imap: FakeImapServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-dns-'));
  dns = await startFakeDns({ hang: true });
  imap = await startFakeImapServer(minimalImap());
});

after(async () => {
  await imap?.close();
  await dns?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('200 names hanging at the resolver', () => {
  it('a good localhost target and a good IP target pass every probe; SIGTERM exits 0 without the backstop', { timeout: 60_000 }, async (t) => {
    const hung = Array.from({ length: HUNG_NAMES }, (_, i) => `  - { name: hung-${i}, host: hung-${i}.example.invalid, port: 143, tls: none }\n`);
    // Roomy timeouts for the good ones: a loaded 2-core CI machine must not fail them; with
    // getaddrinfo they failed at resolve every time, however roomy.
    const good = [`  - { name: good-name, host: localhost, port: ${imap.port}, tls: none, timeout: 1900ms }\n`, `  - { name: good-ip, host: 127.0.0.1, port: ${imap.port}, tls: none, timeout: 1900ms }\n`];
    const config = join(dir, 'exporter.yaml');
    await writeFile(config, `defaults:\n  interval: 2s\n  timeout: 1s\ntargets:\n${[...good, ...hung].join('')}`);
    const daemon = await startDaemon(config, [`--dns.server=${dns.server}`, '--probe.concurrency=500']);
    try {
      const samples = await daemon.waitFor('three runs of the good targets and a failed run of every hung one', async () => {
        const now = await daemon.scrape();
        const goodRuns = ['good-name', 'good-ip'].map((target) => find(now, 'imap_probes_total', { target })?.value ?? 0);
        const hungFailures = select(now, 'imap_probe_failures_total', { phase: 'resolve', reason: 'timeout' });
        return goodRuns.every((runs) => runs >= 3) && hungFailures.length === HUNG_NAMES ? now : undefined;
      }, 40_000);
      for (const target of ['good-name', 'good-ip']) {
        assert.equal(find(samples, 'imap_probe_success', { target })?.value, 1, target);
        assert.deepEqual(select(samples, 'imap_probe_failures_total', { target }), [], `${target} never failed`);
      }
      assert.ok(dns.queries >= HUNG_NAMES, 'the hung names were asked of the test resolver, not the system one');
    } finally {
      const stopped = await daemon.stop();
      assert.deepEqual([stopped.code, stopped.signal], [0, null], daemon.logs().slice(-3000));
      assert.doesNotMatch(daemon.logs(), /backstop/);
      t.diagnostic(`SIGTERM to exit with ${HUNG_NAMES} hung names: ${stopped.ms} ms`);
    }
  });

  it('check returns at its deadline with resolve ✗ timeout', async () => {
    let stdout = '';
    const code = await runCheck(['hung.example.invalid', '--no-tls', '--timeout', '500ms'], { stdout: (text) => (stdout += text), stderr: (text) => (stdout += text), env: {} },
      (spec, options) => runProbe(spec, { ...options, resolver: { servers: [dns.server] } }));
    assert.equal(code, 1, stdout);
    assert.match(stdout, /resolve ✗ timeout/);
  });
});
