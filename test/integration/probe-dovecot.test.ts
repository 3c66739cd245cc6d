// The engine against a real Dovecot started for this file: every stage over
// STARTTLS and implicit TLS, and the failures a real server produces.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { probeExposition } from '../../src/metrics/probe-registry.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { formatTranscript } from '../../src/probe/transcript.js';
import type { AccountSpec, ListEntry, ProbeResult, ProbeSpec } from '../../src/probe/types.js';
import { startDovecot, type DovecotServer, type Listener } from '../fixtures/dovecot.js';
import { closedPort } from '../fixtures/ports.js';
import { parseExpositionFull, select } from '../helpers/exposition.js';
import { loginAccount, testJob } from '../helpers/jobs.js';

let dovecot: DovecotServer;
before(async () => {
  dovecot = await startDovecot();
});
after(() => dovecot?.stop());

function alice(overrides: Partial<AccountSpec> = {}): AccountSpec {
  return loginAccount('alice', dovecot.accounts.alice, overrides);
}

function spec(listener: Listener, overrides: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    target: 'dovecot',
    host: listener.host,
    port: listener.port,
    tls: 'starttls',
    tlsConfig: { caFile: dovecot.caFile, insecureSkipVerify: false },
    timeoutMs: 5000,
    account: alice(),
    ...overrides,
  };
}

function assertPassed(result: ProbeResult, stages: string[]): void {
  assert.equal(result.success, true, formatTranscript(result.transcript));
  assert.deepEqual(result.stages.map((s) => s.stage), stages);
  assert.ok(result.stages.every((s) => s.success && s.durationSeconds > 0));
}

function assertFailed(result: ProbeResult, stage: string, reason: string): void {
  assert.deepEqual([result.failure?.stage, result.failure?.reason], [stage, reason], formatTranscript(result.transcript));
}

const sorted = (names: readonly string[]) => [...names].sort();

describe('probe engine against a real Dovecot', () => {
  it('passes every stage over STARTTLS and reports what the server said', async () => {
    const result = await runProbe(spec(dovecot.imap));
    assertPassed(result, ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
    const { facts } = result;
    assert.ok(facts.capabilitiesBeforeTls?.includes('STARTTLS'));
    assert.ok(!facts.capabilities?.includes('STARTTLS'), 'capabilities were asked again after STARTTLS');
    assert.ok(facts.capabilitiesAfterLogin?.includes('NAMESPACE'));
    assert.equal(facts.tls?.authorized, true);
    assert.equal(facts.tls?.certNotAfter, dovecot.pki.serverNotAfter);
    assert.match(facts.tls?.version ?? '', /^TLSv1\.[23]$/);
    assert.deepEqual(facts.mailbox, {
      name: 'INBOX',
      exists: dovecot.expected.inboxMessages,
      recent: dovecot.expected.inboxRecent,
      uidValidity: dovecot.expected.inboxUidValidity,
      uidNext: dovecot.expected.inboxMessages + 1,
      writable: true,
      flags: ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'],
      permanentFlags: ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\*'],
    });
    assert.deepEqual(sorted(facts.lists[0]!.folders.map((f) => f.name)), dovecot.expected.listAll);
    assert.deepEqual(sorted(facts.lists[1]!.folders.map((f) => f.name)), dovecot.expected.listShared);
    assert.ok(facts.lists[0]!.folders.some((f) => f.name === dovecot.expected.nonAsciiFolder.name));
    const transcript = formatTranscript(result.transcript);
    assert.ok(!transcript.includes(dovecot.accounts.alice.password));
    assert.match(transcript, /C: a\d+ LOGIN "alice" \*\*\*/);
  });

  it('passes every stage over implicit TLS with AUTHENTICATE PLAIN', async () => {
    const result = await runProbe(spec(dovecot.imaps, { tls: 'tls', account: alice({ auth: 'plain' }) }));
    assertPassed(result, ['connect', 'tls', 'greeting', 'login', 'select', 'list', 'logout']);
    assert.match(formatTranscript(result.transcript), /AUTHENTICATE PLAIN \*\*\*/);
    assert.ok(!JSON.stringify(result).includes(dovecot.accounts.alice.password));
  });

  it('selects a non-ASCII mailbox by its display name', async () => {
    const result = await runProbe(spec(dovecot.imap, { account: alice({ mailbox: dovecot.expected.nonAsciiFolder.name }) }));
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.match(formatTranscript(result.transcript), new RegExp(`SELECT "${dovecot.expected.nonAsciiFolder.wire.replace(/[&]/g, '\\&')}"`));
  });

  it('a target with no account: connect, greeting, starttls, logout', async () => {
    const result = await runProbe(spec(dovecot.imap, { account: undefined }));
    assertPassed(result, ['connect', 'greeting', 'starttls', 'logout']);
  });

  it('a missing mailbox: select/select_failed', async () => {
    const result = await runProbe(spec(dovecot.imap, { account: alice({ mailbox: 'No/Such/Box' }) }));
    assertFailed(result, 'select', 'select_failed');
    assert.match(result.failure!.detail, /NO/);
  });

  it('LOGINDISABLED before STARTTLS: login/login_disabled; after STARTTLS the login works', async () => {
    const plain = await runProbe(spec(dovecot.loginDisabled, { tls: 'none', account: alice({ allowPlaintextAuth: true }) }));
    assert.ok(plain.facts.capabilities?.includes('LOGINDISABLED'), formatTranscript(plain.transcript));
    assertFailed(plain, 'login', 'login_disabled');
    const upgraded = await runProbe(spec(dovecot.loginDisabled));
    assertPassed(upgraded, ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
  });

  it('no CA configured: the test CA is untrusted, tls_certificate_invalid', async () => {
    const result = await runProbe(spec(dovecot.imaps, { tls: 'tls', tlsConfig: { insecureSkipVerify: false }, account: undefined }));
    assertFailed(result, 'tls', 'tls_certificate_invalid');
    const starttls = await runProbe(spec(dovecot.imap, { tlsConfig: { insecureSkipVerify: false }, account: undefined }));
    assertFailed(starttls, 'starttls', 'tls_certificate_invalid');
  });

  it('server_name: the certificate is checked against it instead of the host', async () => {
    const named = await runProbe(spec(dovecot.imaps, { tls: 'tls', account: undefined, tlsConfig: { caFile: dovecot.caFile, serverName: 'localhost', insecureSkipVerify: false } }));
    assertPassed(named, ['connect', 'tls', 'greeting', 'logout']);
    assert.match(formatTranscript(named.transcript), /server name localhost/);
    const wrong = await runProbe(spec(dovecot.imaps, { tls: 'tls', account: undefined, tlsConfig: { caFile: dovecot.caFile, serverName: 'mail.example.org', insecureSkipVerify: false } }));
    assertFailed(wrong, 'tls', 'tls_certificate_invalid');
    assert.match(wrong.failure!.detail, /ERR_TLS_CERT_ALTNAME_INVALID.*mail\.example\.org/);
  });

  it('an expired certificate: tls_certificate_expired, with its expiry still reported', async () => {
    const result = await runProbe(spec(dovecot.expired, { tls: 'tls', account: undefined }));
    assertFailed(result, 'tls', 'tls_certificate_expired');
    assert.equal(result.facts.tls?.certNotAfter, dovecot.pki.expiredNotAfter);
  });

  it('nothing listening: connect/connection_refused', async () => {
    const result = await runProbe(spec({ host: '127.0.0.1', port: await closedPort() }));
    assertFailed(result, 'connect', 'connection_refused');
  });

  // Last: a failed login makes Dovecot's anvil delay later logins from this address unless the fixture disables it.
  it('a wrong password: login/auth_failed with the server words', async () => {
    const result = await runProbe(spec(dovecot.imap, { account: alice({ password: () => Promise.resolve('not-the-password') }) }));
    assertFailed(result, 'login', 'auth_failed');
    assert.match(result.failure!.detail, /NO \[AUTHENTICATIONFAILED\]/);
    assert.ok(!formatTranscript(result.transcript).includes('not-the-password'));
  });
});

describe('what a real Dovecot shows beyond pass/fail', () => {
  it('NAMESPACE, GETQUOTAROOT (the test mail is the usage) and the three capability lists', async () => {
    const result = await runProbe(spec(dovecot.imap));
    assert.equal(result.success, true, formatTranscript(result.transcript));
    const { facts, expected } = { facts: result.facts, expected: dovecot.expected };
    assert.deepEqual(facts.namespaces, expected.namespaces);
    assert.deepEqual(facts.quota, {
      mailbox: 'INBOX',
      roots: [{ name: expected.quota.root, resources: [
        { name: 'STORAGE', usage: expected.quota.storageKiB, limit: expected.quota.storageLimitKiB },
        { name: 'MESSAGE', usage: expected.quota.messages, limit: expected.quota.messageLimit },
      ] }],
    });
    assert.ok(facts.capabilitiesBeforeTls?.includes('STARTTLS'));
    assert.ok(facts.capabilitiesAfterTls && !facts.capabilitiesAfterTls.includes('STARTTLS'));
    // Dovecot announces QUOTA and NAMESPACE only after login, in the LOGIN OK: nothing asked again.
    assert.ok(facts.capabilitiesAfterLogin?.includes('QUOTA') && !facts.capabilitiesAfterTls.includes('QUOTA'));
    const sent = result.transcript.filter((e) => e.direction === 'C').map((e) => e.text.split(' ')[1]);
    assert.deepEqual(sent, ['STARTTLS', 'CAPABILITY', 'LOGIN', 'SELECT', 'GETQUOTAROOT', 'NAMESPACE', 'LIST', 'LIST', 'LOGOUT']);
  });

  it('implicit TLS: no pre_tls list, the greeting list counts as after TLS', async () => {
    const result = await runProbe(spec(dovecot.imaps, { tls: 'tls', account: undefined }));
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.equal(result.facts.capabilitiesBeforeTls, undefined);
    assert.ok(result.facts.capabilitiesAfterTls?.includes('AUTH=PLAIN'));
  });

  it('GETQUOTAROOT follows the selected mailbox: Sent shares the user quota root', async () => {
    const result = await runProbe(spec(dovecot.imap, { account: alice({ mailbox: 'Sent' }) }));
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.equal(result.facts.quota?.roots[0]?.name, dovecot.expected.quota.root, 'every personal folder shares the user quota root');
  });
});

describe('diagnoses on a real Dovecot', () => {
  const bob = (overrides: Partial<AccountSpec> = {}): AccountSpec =>
    alice({ name: 'bob', username: dovecot.accounts.bob.username, password: () => Promise.resolve(dovecot.accounts.bob.password), ...overrides });
  const credentialsHint = /the credentials were rejected .*wrong password or unknown login id.*DEBUG_LOGIN/;

  it('a wrong password and an unknown login id: auth_failed, the DEBUG_LOGIN hint, never "backend down", and a polite LOGOUT', async () => {
    const wrong = await runProbe(spec(dovecot.imap, { account: alice({ password: () => Promise.resolve('not-the-password') }) }));
    const unknown = await runProbe(spec(dovecot.imap, { account: alice({ username: 'nobody-here' }) }));
    for (const result of [wrong, unknown]) {
      assertFailed(result, 'login', 'auth_failed');
      assert.equal(result.failure!.detail, 'the server answered NO [AUTHENTICATIONFAILED] Authentication failed.');
      assert.match(result.failure!.hint, credentialsHint);
      assert.doesNotMatch(result.failure!.hint, /down|not running/);
      assert.match(formatTranscript(result.transcript), /C: a\d+ LOGOUT\n.*S: \* BYE Logging out/);
    }
  });

  it('the auth backend failing (a passdb that cannot be read): NO [UNAVAILABLE], auth_unavailable', async () => {
    const result = await runProbe(spec(dovecot.imap, { account: alice({ username: 'unavailable' }) }));
    assertFailed(result, 'login', 'auth_unavailable');
    assert.match(result.failure!.detail, /^the server answered NO \[UNAVAILABLE\] Temporary authentication failure\./);
    assert.match(result.failure!.hint, /\[UNAVAILABLE\].*authdaemond.*auth process/);
  });

  it('an empty INBOX with min_messages 1: select ✗ expectation_failed naming mailbox, count and minimum', async () => {
    const result = await runProbe(spec(dovecot.imap, { account: bob({ expect: { minMessages: 1 } }) }));
    assertFailed(result, 'select', 'expectation_failed');
    assert.equal(result.failure!.detail, 'SELECT INBOX showed 0 messages, expected at least 1');
    assert.equal(result.facts.mailbox?.exists, 0);
  });

  it('a shared pattern with min_folders unmet, and expected folder names: list ✗ expectation_failed, presence recorded', async () => {
    const result = await runProbe(spec(dovecot.imap, {
      account: alice({
        list: [
          { reference: '', pattern: '#shared.*', expect: { folders: ['#shared.postmaster', '#shared.gone'] } },
          { reference: '', pattern: '#shared.nosuch.*', expect: { minFolders: 1 } },
        ],
      }),
    }));
    assertFailed(result, 'list', 'expectation_failed');
    assert.equal(result.failure!.detail, `LIST "" "#shared.*" returned ${dovecot.expected.listShared.length} folders, missing #shared.gone`);
    assert.deepEqual(result.facts.lists.map((l) => [l.pattern, l.expectedFolders]), [
      ['#shared.*', [{ name: '#shared.postmaster', present: true }, { name: '#shared.gone', present: false }]],
      ['#shared.nosuch.*', undefined],
    ]);
    const none = await runProbe(spec(dovecot.imap, { account: alice({ list: [{ reference: '', pattern: '#shared.nosuch.*', expect: { minFolders: 1 } }] }) }));
    assertFailed(none, 'list', 'expectation_failed');
    assert.equal(none.failure!.detail, 'LIST "" "#shared.nosuch.*" returned 0 folders, expected at least 1');
    assert.match(none.failure!.hint, /no virtual shared folders are accessible to this login id/);
  });

  it('{namespace: shared} and {namespace: other} list the prefixes NAMESPACE announced; imap_folders carries the expanded pattern', async () => {
    const list: ListEntry[] = [{ namespace: 'shared', expect: { minFolders: 2 } }, { namespace: 'other' }];
    const result = await runProbe(spec(dovecot.imap, { account: alice({ list }) }));
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.deepEqual(result.facts.lists.map((l) => [l.reference, l.pattern, sorted(l.folders.map((f) => f.name))]), [
      ['', '#shared.*', dovecot.expected.listShared],
      ['', 'user.*', []],
    ]);
    const { samples } = parseExpositionFull(probeExposition(testJob('dovecot', 'alice'), result));
    assert.deepEqual(select(samples, 'imap_folders').map((s) => [s.labels.pattern, s.value]), [['#shared.*', 2], ['user.*', 0]]);
  });
});
