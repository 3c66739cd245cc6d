// A short soak: every hostile scenario at a 1 s interval for about a minute (echoing
// servers, a hung server, a flood, garbage, PREAUTH, a RST during LOGIN, a FIFO as a
// password file, names hanging at the resolver) plus /probe bursts; the daemon's open
// descriptors and RSS must come back near where they were after the warm-up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { echoImap } from '../fakes/echo-imap.js';
import { startFakeDns, type FakeDns } from '../fakes/fake-dns.js';
import { endlessLine, garbage, minimalImap, silent, startFakeImapServer, type FakeHandler, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDaemon } from '../helpers/daemon.js';

const WARM_UP_MS = 10_000;
const SOAK_MS = 45_000;

let dir: string;
let dns: FakeDns;
const servers: FakeImapServer[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-soak-'));
  dns = await startFakeDns({ hang: true });
});
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await dns?.close();
  await rm(dir, { recursive: true, force: true });
});

const reset: FakeHandler = async (conn) => {
  conn.write('* OK [CAPABILITY IMAP4rev1] ready\r\n');
  await conn.readLine();
  conn.reset();
};

const flood: FakeHandler = async (conn) => {
  conn.write('* OK ready\r\n');
  await conn.readLine();
  const chunk = '* OK flood\r\n'.repeat(1000);
  while (!conn.isClosed) {
    conn.write(chunk);
    await conn.waitForDrain();
    // Yields to the event loop: once the client is gone the writes are no-ops and would spin.
    await conn.delay(1);
  }
};

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssBytes(pid: number): number {
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kib * 1024;
}

it('fds and RSS return near their baseline after a minute of every hostile scenario', { timeout: 120_000 }, async (t) => {
  const scenarios: Record<string, FakeHandler> = {
    good: minimalImap({ users: { alice: 'alice-pw' } }),
    'echo-no': echoImap({ place: 'no' }).handler,
    'echo-bye': echoImap({ place: 'bye' }).handler,
    'echo-continuation': echoImap({ place: 'continuation' }).handler,
    'echo-greeting': echoImap({ place: 'greeting', greetingText: 'alice-pw' }).handler,
    hung: silent(),
    flood,
    endless: endlessLine(),
    garbage: garbage(),
    reset,
  };
  await writeFile(join(dir, 'alice.pw'), 'alice-pw\n');
  // A regular file at load (config check refuses a FIFO), turned into a FIFO once running.
  await writeFile(join(dir, 'fifo.pw'), 'fifo-pw\n');
  const targets: string[] = [];
  for (const [name, handler] of Object.entries(scenarios)) {
    const server = await startFakeImapServer(handler);
    servers.push(server);
    // The FIFO account only where no server knows alice's password: its probes cannot know it either.
    const fifo = name === 'good' ? '      - { username: fifo, password_file: fifo.pw }\n' : '';
    targets.push(`  - name: ${name}\n    host: ${server.host}\n    port: ${server.port}\n    accounts:\n` +
      `      - { username: alice, password_file: alice.pw }\n      - { username: alice, name: cram, auth: cram-md5, password_file: alice.pw }\n${fifo}`);
  }
  for (let i = 0; i < 20; i++) targets.push(`  - { name: dns-${i}, host: hung-${i}.example.invalid }\n`);
  const config = join(dir, 'soak.yaml');
  await writeFile(config, `defaults:\n  interval: 1s\n  timeout: 800ms\n  tls: none\n  allow_plaintext_auth: true\ntargets:\n${targets.join('')}`);
  const daemon = await startDaemon(config, [`--dns.server=${dns.server}`]);
  const pid = daemon.child.pid!;
  await rm(join(dir, 'fifo.pw'));
  execFileSync('mkfifo', [join(dir, 'fifo.pw')]);
  try {
    const burst = () => Promise.all(Object.keys(scenarios).map((name) => daemon.get(`/probe?target=${name}&account=alice&debug=true`)));
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
    await burst();
    const baseline = { fds: openFds(pid), rss: rssBytes(pid) };
    const soakStart = Date.now() / 1000;
    const ends = Date.now() + SOAK_MS;
    const rss: number[] = [];
    while (Date.now() < ends) {
      await burst();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      rss.push(rssBytes(pid));
    }
    const end = { fds: openFds(pid), rss: rssBytes(pid) };
    // V8 grows its heap lazily, by more on Node 24 than on 20, so RSS right after a warm-up
    // is no baseline for a leak: a leak keeps growing, warm-up levels off. Compare the peak
    // of the soak's last third with that of its middle third.
    const third = Math.floor(rss.length / 3);
    const middlePeak = Math.max(...rss.slice(third, 2 * third));
    const lastPeak = Math.max(...rss.slice(2 * third));
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    t.diagnostic(`open fds ${baseline.fds} → ${end.fds}; RSS ${mib(baseline.rss)} → ${mib(end.rss)} MiB (peak of middle third ${mib(middlePeak)}, of last third ${mib(lastPeak)})`);
    // Probes in flight hold a socket or two each: "near" is within what 40 jobs can hold at once.
    assert.ok(end.fds <= baseline.fds + 40, `open fds grew from ${baseline.fds} to ${end.fds}`);
    assert.ok(lastPeak <= middlePeak * 1.1 + 16 * 2 ** 20, `RSS still growing: peak ${middlePeak} in the middle third, ${lastPeak} in the last`);
    assert.ok(end.rss <= baseline.rss * 2 + 64 * 2 ** 20, `RSS grew from ${baseline.rss} to ${end.rss}`);
    const samples = await daemon.scrape();
    // Not "every probe passed": on a loaded 2-core machine an 800 ms probe may time out now and then.
    const goodSince = samples.find((s) => s.name === 'imap_probe_last_success_timestamp_seconds' && s.labels.target === 'good' && s.labels.account === 'alice');
    const failures = samples.filter((s) => s.name === 'imap_probe_failures_total' && s.labels.target === 'good' && s.labels.account === 'alice');
    assert.ok((goodSince?.value ?? 0) > soakStart, `the good job passed during the soak: ${JSON.stringify(failures)}`);
    assert.doesNotMatch(daemon.logs(), /uncaught|MaxListenersExceededWarning/);
    assert.ok(!daemon.logs().includes('alice-pw'), 'no password in the log');
  } finally {
    const stopped = await daemon.stop();
    assert.equal(stopped.code, 0);
  }
});
