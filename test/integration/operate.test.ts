// Operating the daemon: /probe on demand, debug transcripts, the status page,
// live reload by SIGHUP and POST /-/reload, password rotation. Real Dovecot, real HTTP.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeImapServer, trickle, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { find, parseExposition, select, type Sample } from '../helpers/exposition.js';
import { dovecotTarget, exporterConfig, imapsTarget, plainTarget, WRONG_PASSWORD, writePasswordFiles } from '../helpers/exporter-config.js';

let dovecot: DovecotServer;
let slow: FakeImapServer;
let daemon: RunningDaemon;
let configFile: string;

// Timeouts roomy enough for a loaded CI machine: /probe asserts on a single run.
const configYaml = (...targets: string[]) => exporterConfig(dovecot, { interval: '2s', timeout: '1500ms' }, targets);
// A greeting trickled over ~1.5 s: long enough for concurrent /probe requests to overlap.
const slowTarget = () => plainTarget('slow', slow, { interval: '1m', timeout: '3s' });

before(async () => {
  dovecot = await startDovecot();
  slow = await startFakeImapServer(trickle('* OK [CAPABILITY IMAP4rev1] slow\r\n', 25));
  await writePasswordFiles(dovecot);
  configFile = join(dovecot.dir, 'exporter.yaml');
  await writeFile(configFile, configYaml(dovecotTarget(dovecot), slowTarget()));
  daemon = await startDaemon(configFile);
});

after(async () => {
  await daemon?.stop('SIGKILL');
  await slow?.close();
  await dovecot?.stop();
});

const secrets = () => [dovecot.accounts.alice.password, dovecot.accounts.bob.password, WRONG_PASSWORD];

function assertNoSecrets(text: string, where: string): void {
  for (const secret of secrets()) assert.ok(!text.includes(secret), `a password appears in ${where}`);
}

const value = (samples: Sample[], name: string, labels: Record<string, string>) => find(samples, name, labels)?.value;

describe('/probe', () => {
  it('probes a good account now and returns only its series', async () => {
    const { status, text, type } = await daemon.get('/probe?target=dovecot&account=alice');
    assert.equal(status, 200, text);
    assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(text);
    assert.equal(value(samples, 'imap_probe_success', { target: 'dovecot', account: 'alice' }), 1);
    assert.equal(select(samples, 'imap_probe_phase_success', { account: 'alice' }).length, 7);
    assert.equal(value(samples, 'imap_mailbox_messages', { target: 'dovecot', account: 'alice', mailbox: 'INBOX' }), dovecot.expected.inboxMessages);
    assert.equal(select(samples, 'imap_probe_success').length, 1, 'no other job in a /probe answer');
    assert.equal(select(samples, 'process_cpu_user_seconds_total').length, 0);
  });

  it('a bad account: login 0 and no select/list series', async () => {
    const samples = parseExposition((await daemon.get('/probe?target=dovecot&account=bob-wrong')).text);
    assert.equal(value(samples, 'imap_probe_success', { target: 'dovecot', account: 'bob-wrong' }), 0);
    assert.equal(value(samples, 'imap_probe_phase_success', { target: 'dovecot', account: 'bob-wrong', phase: 'login' }), 0);
    assert.equal(find(samples, 'imap_probe_phase_success', { target: 'dovecot', account: 'bob-wrong', phase: 'select' }), undefined);
  });

  it('debug=true: the stage table, reason, hint and the redacted transcript with the server words', async () => {
    const { status, text, type } = await daemon.get('/probe?target=dovecot&account=bob-wrong&debug=true');
    assert.equal(status, 200);
    assert.match(type ?? '', /^text\/plain/);
    assert.match(text, /✓ starttls/);
    assert.match(text, /login ✗ auth_failed/);
    assert.match(text, /detail: the server answered NO \[AUTHENTICATIONFAILED\] Authentication failed\./);
    assert.match(text, /hint: the credentials were rejected \(\[AUTHENTICATIONFAILED\]\).*DEBUG_LOGIN/);
    assert.match(text, /C: a\d+ LOGIN "bob" \*\*\*/);
    assert.match(text, /S: a\d+ NO \[AUTHENTICATIONFAILED\] Authentication failed\./);
    assert.match(text, /imap_probe_success\{target="dovecot",account="bob-wrong"\} 0/);
    assertNoSecrets(text, '/probe debug output');
    const good = await daemon.get('/probe?target=dovecot&account=alice&debug=true');
    assert.match(good.text, /C: a\d+ LOGIN "alice" \*\*\*/);
    assertNoSecrets(good.text, '/probe debug output');
  });

  it('without account: an unauthenticated probe of the configured target', async () => {
    const samples = parseExposition((await daemon.get('/probe?target=dovecot')).text);
    assert.equal(value(samples, 'imap_probe_success', { target: 'dovecot' }), 1);
    assert.equal(find(samples, 'imap_probe_phase_success', { target: 'dovecot', phase: 'login' }), undefined);
  });

  it('400 for an unknown target or account, and no way to name a host that is not configured', async () => {
    for (const query of ['target=nope', 'target=dovecot&account=mallory', 'target=127.0.0.1', `target=${dovecot.imap.host}:${dovecot.imap.port}`, '', 'account=alice']) {
      const { status, text } = await daemon.get(`/probe?${query}`);
      assert.equal(status, 400, `${query}: ${text}`);
      assert.match(text, /target/);
    }
    // Extra parameters cannot redirect a configured probe elsewhere.
    const redirected = await daemon.get(`/probe?target=dovecot&account=alice&host=127.0.0.9&port=1&debug=true`);
    assert.match(redirected.text, new RegExp(`${dovecot.imap.host}:${dovecot.imap.port}`));
    assert.match(redirected.text, /OK: every stage passed/);
  });

  it('concurrent requests for the same job share one run', async () => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => daemon.get('/probe?target=slow&debug=true')));
    assert.ok(answers.every((a) => a.status === 200));
    // One run: every transcript shows the same connection, source port included (the scheduled run may add its own).
    const starts = new Set(answers.map((a) => /-- connected to \S+ from (\S+)$/m.exec(a.text)?.[1]));
    assert.equal(starts.size, 1, [...starts].join(', '));
    assert.ok(!starts.has(undefined));
  });
});

describe('status page and transcripts', () => {
  it('shows every job with its stage states, the failure with hint and the server answer, and links', async () => {
    await daemon.waitFor('bob to have failed once', async () => {
      const samples = await daemon.scrape();
      return value(samples, 'imap_probe_success', { target: 'dovecot', account: 'bob-wrong' }) === 0 ? true : undefined;
    });
    const { status, text, type } = await daemon.get('/');
    assert.equal(status, 200);
    assert.match(type ?? '', /^text\/html/);
    const rows = text.split('<tr>').slice(2);
    const row = (target: string, account: string) => rows.find((r) => r.startsWith(`<td>${target}</td><td>${account}</td>`));
    const bobRow = row('dovecot', 'bob-wrong');
    assert.ok(bobRow, 'bob row');
    assert.ok(row('dovecot', 'alice'), 'alice row');
    assert.ok(row('slow', '—'), 'slow row');
    assert.match(bobRow, /class="fail n" title="auth_failed">✗/);
    assert.match(bobRow, /<b>login: auth_failed<\/b>/);
    assert.match(bobRow, /NO \[AUTHENTICATIONFAILED\] Authentication failed\./);
    assert.match(bobRow, /hint: the credentials were rejected/);
    assert.match(bobRow, /href="\/transcript\?target=dovecot&amp;account=bob-wrong"/);
    assert.match(bobRow, /href="\/probe\?target=dovecot&amp;account=bob-wrong&amp;debug=true"/);
    assertNoSecrets(text, 'the status page');
  });

  it('one click from the status page to the server\'s exact answer', async () => {
    const { status, text } = await daemon.get('/transcript?target=dovecot&account=bob-wrong');
    assert.equal(status, 200);
    assert.match(text, /S: a\d+ NO \[AUTHENTICATIONFAILED\] Authentication failed\./);
    assert.match(text, /C: a\d+ LOGIN "bob" \*\*\*/);
    assertNoSecrets(text, 'the transcript page');
    assert.equal((await daemon.get('/transcript?target=nope')).status, 400);
  });

  it('the logs never carry a password', () => {
    assertNoSecrets(daemon.logs(), 'the logs');
  });
});

describe('password rotation and live reload', () => {
  const alice = { target: 'dovecot', account: 'alice' };

  it('a password file changed on disk is read before the next probe, without a reload', async () => {
    await writeFile(join(dovecot.dir, 'alice.pw'), 'rotated-but-wrong\n');
    await daemon.waitFor('alice to fail with the new file', async () =>
      value(await daemon.scrape(), 'imap_probe_failures_total', { ...alice, phase: 'login', reason: 'auth_failed' }) ? true : undefined);
    await writeFile(join(dovecot.dir, 'alice.pw'), `${dovecot.accounts.alice.password}\n`);
    await daemon.waitFor('alice to pass again', async () => (value(await daemon.scrape(), 'imap_probe_success', alice) === 1 ? true : undefined));
    assert.ok(!daemon.logs().includes('rotated-but-wrong'));
  });

  it('SIGHUP adds and removes targets; a broken file changes nothing but the reload gauge; POST /-/reload likewise', async () => {
    const before = await daemon.scrape();
    const aliceRuns = value(before, 'imap_probes_total', alice)!;
    assert.ok(find(before, 'imap_probes_total', { target: 'slow' }), 'the slow target is configured (its first run may be later)');

    // Add dovecot-imaps, remove slow.
    await writeFile(configFile, configYaml(dovecotTarget(dovecot), imapsTarget(dovecot)));
    daemon.child.kill('SIGHUP');
    const added = await daemon.waitFor('the new target to report', async () => {
      const samples = await daemon.scrape();
      return value(samples, 'imap_probe_success', { target: 'dovecot-imaps' }) === 1 ? samples : undefined;
    });
    assert.equal(select(added, 'imap_probe_success', { target: 'slow' }).length, 0, 'removed target still exported');
    assert.equal(added.filter((s) => s.labels.target === 'slow').length, 0, 'a series of the removed target remains');
    assert.ok(value(added, 'imap_probes_total', alice)! >= aliceRuns, 'an unchanged job kept its counters');
    assert.equal(value(added, 'imap_exporter_config_last_reload_successful', {}), 1);

    // Broken YAML via POST: 500 naming the file and line, old config keeps running.
    await writeFile(configFile, configYaml(dovecotTarget(dovecot), imapsTarget(dovecot)) + '  - name: [unclosed\n');
    const failed = await daemon.get('/-/reload', { method: 'POST' });
    assert.equal(failed.status, 500);
    assert.match(failed.text, new RegExp(`${configFile.replace(/[.]/g, '\\.')}:\\d+`));
    const afterBad = await daemon.scrape();
    assert.equal(value(afterBad, 'imap_exporter_config_last_reload_successful', {}), 0);
    assert.equal(value(afterBad, 'imap_probe_success', { target: 'dovecot-imaps' }), 1);

    // Broken via SIGHUP: still running, still 0.
    await writeFile(configFile, configYaml(dovecotTarget(dovecot)) + '    bogus_key: 1\n');
    daemon.child.kill('SIGHUP');
    await daemon.waitFor('the failed SIGHUP reload to be logged', async () => (/unknown key|bogus_key/.test(daemon.logs()) ? true : undefined));
    assert.equal(daemon.child.exitCode, null);
    assert.ok(find(await daemon.scrape(), 'imap_probe_success', { target: 'dovecot-imaps' }));

    // Fixed via POST: 200, gauge back to 1, imaps removed at once.
    await writeFile(configFile, configYaml(dovecotTarget(dovecot)));
    const fixed = await daemon.get('/-/reload', { method: 'POST' });
    assert.equal(fixed.status, 200, fixed.text);
    const final = await daemon.scrape();
    assert.equal(value(final, 'imap_exporter_config_last_reload_successful', {}), 1);
    assert.equal(final.filter((s) => s.labels.target === 'dovecot-imaps').length, 0);
    assert.ok(value(final, 'imap_exporter_config_last_reload_success_timestamp_seconds', {})! > Date.now() / 1000 - 30);
  });
});
