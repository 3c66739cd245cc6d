// The daemon as a real process: a config pointing at a real Dovecot and a fake
// server, scraped over HTTP; Dovecot stopped and restarted; SIGTERM with probes hung.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeImapServer, silent, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { find, promtoolProblems, select, type Sample } from '../helpers/exposition.js';
import { dovecotTarget, exporterConfig, imapsTarget, plainTarget, WRONG_PASSWORD, writePasswordFiles } from '../helpers/exporter-config.js';

const FULL_STAGES = ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout'];

let dovecot: DovecotServer;
let hung: FakeImapServer;
let daemon: RunningDaemon;

const alice = { target: 'dovecot', account: 'alice' };
const bob = { target: 'dovecot', account: 'bob-wrong' };

before(async () => {
  dovecot = await startDovecot();
  hung = await startFakeImapServer(silent());
  await writePasswordFiles(dovecot);
  const config = join(dovecot.dir, 'exporter.yaml');
  await writeFile(
    config,
    exporterConfig(dovecot, { interval: '1s', timeout: '900ms' }, [dovecotTarget(dovecot), imapsTarget(dovecot), plainTarget('hung', hung)]),
  );
  daemon = await startDaemon(config);
});

after(async () => {
  await daemon?.stop('SIGKILL');
  await hung?.close();
  await dovecot?.stop();
});

/** Waits until a scrape satisfies `ready` and returns that scrape. */
function scrapeUntil(what: string, ready: (samples: Sample[]) => boolean, timeoutMs = 15_000): Promise<Sample[]> {
  return daemon.waitFor(what, async () => {
    const samples = await daemon.scrape();
    return ready(samples) ? samples : undefined;
  }, timeoutMs);
}

const value = (samples: Sample[], name: string, labels: Record<string, string>) => find(samples, name, labels)?.value;

describe('imap_exporter daemon against a real Dovecot', () => {
  it('exports every stage of a good account, with durations', async () => {
    const samples = await scrapeUntil('alice to pass', (s) => value(s, 'imap_probe_success', alice) === 1);
    const stages = select(samples, 'imap_probe_phase_success', alice);
    assert.deepEqual(stages.map((s) => s.labels.phase).sort(), [...FULL_STAGES].sort());
    assert.ok(stages.every((s) => s.value === 1));
    for (const stage of FULL_STAGES) {
      assert.ok(value(samples, 'imap_probe_phase_duration_seconds', { ...alice, phase: stage })! > 0, stage);
    }
    assert.ok(value(samples, 'imap_probe_duration_seconds', alice)! > 0);
    assert.ok(value(samples, 'imap_probe_last_success_timestamp_seconds', alice)! > Date.now() / 1000 - 60);
  });

  it('counts every scheduled start in imap_exporter_schedule_lateness_seconds', async () => {
    const samples = await scrapeUntil('alice to pass', (s) => value(s, 'imap_probe_success', alice) === 1);
    const started = value(samples, 'imap_exporter_schedule_lateness_seconds_count', {})!;
    const probed = select(samples, 'imap_probes_total').reduce((sum, s) => sum + s.value, 0);
    // Every recorded probe started first; runs in flight at the scrape have started but not ended.
    assert.ok(started >= probed && probed >= 1, `${started} starts, ${probed} probes recorded`);
    assert.equal(value(samples, 'imap_exporter_schedule_lateness_seconds_bucket', { le: '+Inf' }), started);
  });

  it('exports the mailbox and folder facts of the test Maildir', async () => {
    const samples = await scrapeUntil(
      'alice and the implicit-TLS target to pass',
      (s) => value(s, 'imap_probe_success', alice) === 1 && value(s, 'imap_probe_success', { target: 'dovecot-imaps' }) === 1,
    );
    const mailbox = { ...alice, mailbox: 'INBOX' };
    assert.equal(value(samples, 'imap_mailbox_messages', mailbox), dovecot.expected.inboxMessages);
    assert.equal(value(samples, 'imap_mailbox_uidvalidity', mailbox), dovecot.expected.inboxUidValidity);
    assert.equal(value(samples, 'imap_mailbox_writable', mailbox), 1);
    assert.equal(value(samples, 'imap_folders', { ...alice, pattern: '*' }), dovecot.expected.listAll.length);
    assert.equal(value(samples, 'imap_folders', { ...alice, pattern: '#shared.*' }), dovecot.expected.listShared.length);
    assert.equal(value(samples, 'imap_tls_cert_not_after_timestamp_seconds', { target: 'dovecot' }), dovecot.pki.serverNotAfter);
    assert.equal(value(samples, 'imap_server_capability', { target: 'dovecot', capability: 'AUTH=PLAIN', when: 'post_tls' }), 1);
    assert.equal(value(samples, 'imap_server_capability', { target: 'dovecot', capability: 'STARTTLS', when: 'pre_tls' }), 1);
  });

  it('exports the quota, namespaces and UIDNEXT exactly as the fixture has them', async () => {
    const samples = await scrapeUntil('alice to pass', (s) => value(s, 'imap_probe_success', alice) === 1);
    const { quota, namespaces, inboxMessages } = dovecot.expected;
    const root = { ...alice, root: quota.root };
    assert.equal(value(samples, 'imap_quota_storage_usage_bytes', root), quota.storageKiB * 1024);
    assert.equal(value(samples, 'imap_quota_storage_limit_bytes', root), quota.storageLimitKiB * 1024);
    assert.equal(value(samples, 'imap_quota_usage', { ...root, resource: 'MESSAGE' }), quota.messages);
    assert.equal(value(samples, 'imap_quota_limit', { ...root, resource: 'MESSAGE' }), quota.messageLimit);
    assert.equal(value(samples, 'imap_mailbox_uidnext', { ...alice, mailbox: 'INBOX' }), inboxMessages + 1);
    const announced = Object.entries(namespaces).flatMap(([type, list]) => list.map((n) => [type, n.prefix, n.delimiter, 1]));
    assert.deepEqual(
      select(samples, 'imap_namespace_info', alice).map((s) => [s.labels.type, s.labels.prefix ?? '', s.labels.delimiter, s.value]),
      announced,
    );
    assert.equal(select(samples, 'imap_tls_info', { target: 'dovecot-imaps' }).length, 1);
  });

  it('a wrong password: login 0, failures counting up by stage and reason, no select/list series', async () => {
    const failures = { ...bob, phase: 'login', reason: 'auth_failed' };
    const samples = await scrapeUntil('two auth failures', (s) => (value(s, 'imap_probe_failures_total', failures) ?? 0) >= 2);
    assert.equal(value(samples, 'imap_probe_success', bob), 0);
    assert.equal(value(samples, 'imap_probe_phase_success', { ...bob, phase: 'login' }), 0);
    assert.equal(find(samples, 'imap_probe_phase_success', { ...bob, phase: 'select' }), undefined);
    assert.equal(find(samples, 'imap_probe_phase_success', { ...bob, phase: 'list' }), undefined);
    assert.equal(select(samples, 'imap_mailbox_messages', bob).length, 0);
    assert.equal(find(samples, 'imap_probe_last_success_timestamp_seconds', bob), undefined);
    const later = await scrapeUntil('the failure counter to grow', (s) => value(s, 'imap_probe_failures_total', failures)! > value(samples, 'imap_probe_failures_total', failures)!);
    assert.ok(value(later, 'imap_probes_total', bob)! >= value(later, 'imap_probe_failures_total', failures)!);
  });

  it('a hung server times out in greeting without delaying the others', async () => {
    const hungFailure = { target: 'hung', phase: 'greeting', reason: 'timeout' };
    const samples = await scrapeUntil('two hung timeouts', (s) => (value(s, 'imap_probe_failures_total', hungFailure) ?? 0) >= 2);
    assert.equal(value(samples, 'imap_probe_phase_success', { target: 'hung', phase: 'greeting' }), 0);
    // Alice ran on her own schedule meanwhile: her last run is recent.
    assert.ok(value(samples, 'imap_probe_last_run_timestamp_seconds', alice)! > Date.now() / 1000 - 3);
  });

  it('the whole /metrics output is valid exposition format (promtool check metrics)', async () => {
    const { text } = await daemon.get('/metrics');
    assert.deepEqual(await promtoolProblems(text), []);
    assert.match(text, /imap_exporter_build_info\{version="[^"]+",node_version="v\d+/);
    assert.match(text, /imap_exporter_config_last_reload_successful 1/);
    // The stall gauge and, on Linux, how much of that stall was a wait for a CPU (never more than the stall).
    const stall = Number(/^imap_exporter_eventloop_stall_seconds (\S+)$/m.exec(text)?.[1]);
    const cpuWait = Number(/^imap_exporter_eventloop_stall_cpu_wait_seconds (\S+)$/m.exec(text)?.[1]);
    assert.ok(stall >= 0, 'stall gauge exported');
    if (process.platform === 'linux') assert.ok(cpuWait >= 0 && cpuWait <= stall, `cpu wait ${cpuWait} within the stall ${stall}`);
  });

  it('logs one structured line per failure, never the password', async () => {
    const lines = daemon.logs().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = lines.find((l) => l.msg === 'probe failed' && l.account === 'bob-wrong');
    assert.ok(failure, 'a probe failed line for bob');
    assert.deepEqual([failure.target, failure.phase, failure.reason], ['dovecot', 'login', 'auth_failed']);
    assert.ok(!lines.some((l) => l.msg === 'probe succeeded'), 'successes are not logged at info');
    assert.ok(!daemon.logs().includes(WRONG_PASSWORD));
    assert.ok(!daemon.logs().includes(dovecot.accounts.alice.password));
  });

  it('Dovecot stopped: connect fails with connection_refused within one interval; restarted: it recovers', async () => {
    await dovecot.kill();
    const refused = { ...alice, phase: 'connect', reason: 'connection_refused' };
    const down = await scrapeUntil('connection_refused', (s) => (value(s, 'imap_probe_failures_total', refused) ?? 0) >= 1, 5000);
    assert.equal(value(down, 'imap_probe_success', alice), 0);
    assert.equal(value(down, 'imap_probe_phase_success', { ...alice, phase: 'connect' }), 0);
    assert.equal(find(down, 'imap_probe_phase_success', { ...alice, phase: 'greeting' }), undefined);
    await dovecot.restart();
    const up = await scrapeUntil('alice to recover', (s) => value(s, 'imap_probe_success', alice) === 1, 5000);
    assert.equal(value(up, 'imap_probe_phase_success', { ...alice, phase: 'connect' }), 1);
    assert.match(daemon.logs(), /"msg":"probe recovered"/);
  });

  it('answers 404 to unknown paths and reports health and readiness', async () => {
    assert.equal((await daemon.get('/nope')).status, 404);
    assert.equal((await daemon.get('/-/healthy')).status, 200);
    assert.equal((await daemon.get('/-/ready')).status, 200);
  });
});

describe('imap_exporter shutdown', () => {
  it('SIGTERM exits 0 within 5 s while probes hang on a non-answering server', async () => {
    // A silent server of its own: the main daemon's probes of `hung` must not count as this one's.
    const silentServer = await startFakeImapServer(silent());
    const config = join(dovecot.dir, 'hung-only.yaml');
    await writeFile(config, `targets:\n${plainTarget('hung', silentServer, { interval: '1m', timeout: '50s' })}`);
    const lone = await startDaemon(config);
    try {
      // An on-demand probe holds a connection to the silent server for up to 50 s.
      const pending = lone.get('/probe?target=hung').catch((error: unknown) => error);
      await lone.waitFor('the probe to connect', async () => (silentServer.openConnections() > 0 ? true : undefined));
      const stopped = await lone.stop('SIGTERM');
      assert.deepEqual([stopped.code, stopped.signal], [0, null], lone.logs());
      assert.ok(stopped.ms < 5000, `took ${stopped.ms} ms`);
      await pending;
      await silentServer.waitForNoOpenConnections(2000);
    } finally {
      await lone.stop('SIGKILL');
      await silentServer.close();
    }
  });

  it('SIGTERM during start-up still exits 0', async () => {
    const config = join(dovecot.dir, 'empty.yaml');
    await writeFile(config, 'targets: []\n');
    const early = await startDaemon(config, [], {}, 'healthy');
    const stopped = await early.stop('SIGTERM');
    assert.deepEqual([stopped.code, stopped.signal], [0, null], early.logs());
  });
});
