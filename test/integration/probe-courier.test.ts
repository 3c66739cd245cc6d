// The engine against a real Courier-IMAP 5.0.13 started for this file: every stage over
// STARTTLS and implicit TLS, and each cause an administrator meets, broken on purpose one
// at a time and restored (what each looks like on the wire: fixture-courier.test.ts).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { probeExposition } from '../../src/metrics/probe-registry.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { formatTranscript } from '../../src/probe/transcript.js';
import type { AccountSpec, NamespaceListRequest, ProbeResult, ProbeSpec } from '../../src/probe/types.js';
import { startCourier, type CourierCause, type CourierServer, type Listener } from '../fixtures/courier.js';
import { find, parseExpositionFull, select } from '../helpers/exposition.js';
import { assertFailed } from '../helpers/fake-probe.js';
import { loginAccount, testJob } from '../helpers/jobs.js';

let courier: CourierServer;
before(async () => {
  courier = await startCourier();
});
after(() => courier?.stop());

function account(name: 'alice' | 'bob' | 'carol', overrides: Partial<AccountSpec> = {}): AccountSpec {
  return loginAccount(name, courier.accounts[name], overrides);
}

function spec(listener: Listener, overrides: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    target: 'courier',
    host: listener.host,
    port: listener.port,
    tls: 'starttls',
    tlsConfig: { caFile: courier.caFile, insecureSkipVerify: false },
    // Above Courier's 5 s failure delay, so a rejected login is a NO, not a timeout.
    timeoutMs: courier.expected.failureDelayMs + 5000,
    account: account('alice'),
    ...overrides,
  };
}

function assertPassed(result: ProbeResult, stages: string[]): void {
  assert.equal(result.success, true, formatTranscript(result.transcript));
  assert.deepEqual(result.stages.map((s) => s.stage), stages);
}

const names = (result: ProbeResult, index: number): string[] => result.facts.lists[index]!.folders.map((f) => f.name).sort();

describe('probe engine against a real Courier-IMAP', () => {
  it('passes every stage over STARTTLS: INBOX, folders with their decoded names, the shared folder', async () => {
    const result = await runProbe(spec(courier.imap));
    assertPassed(result, ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
    const { facts } = result;
    assert.match(facts.greeting ?? '', /Courier-IMAP ready\./);
    assert.ok(facts.capabilitiesBeforeTls?.includes('STARTTLS'));
    assert.ok(facts.capabilities?.includes('AUTH=PLAIN'), 'CAPABILITY was not asked again after STARTTLS');
    assert.equal(facts.tls?.authorized, true);
    assert.equal(facts.tls?.certNotAfter, courier.pki.serverNotAfter);
    assert.equal(facts.mailbox?.exists, courier.expected.inboxMessages);
    assert.equal(facts.mailbox?.uidValidity, courier.expected.inboxUidValidity);
    assert.equal(facts.mailbox?.writable, true);
    assert.deepEqual(names(result, 0), courier.expected.listAll);
    assert.ok(names(result, 0).includes(courier.expected.nonAsciiFolder.name));
    assert.deepEqual(names(result, 1), courier.expected.listShared);
    assert.ok(!formatTranscript(result.transcript).includes(courier.accounts.alice.password));
  });

  it('passes every stage over implicit TLS (couriertls) with AUTHENTICATE PLAIN', async () => {
    const result = await runProbe(spec(courier.imaps, { tls: 'tls', account: account('alice', { auth: 'plain' }) }));
    assertPassed(result, ['connect', 'tls', 'greeting', 'login', 'select', 'list', 'logout']);
    // No SASL-IR in Courier's CAPABILITY: the credentials go in a continuation, redacted.
    assert.match(formatTranscript(result.transcript), /C: a\d+ AUTHENTICATE PLAIN\n.*S: \+ \n.*C: \*\*\*\n/);
    assert.ok(!JSON.stringify(result).includes(courier.accounts.alice.password));
  });

  it('selects the non-ASCII folder by its display name, and the shared folder read-only', async () => {
    const utf7 = await runProbe(spec(courier.imap, { account: account('alice', { mailbox: courier.expected.nonAsciiFolder.name }) }));
    assert.equal(utf7.success, true, formatTranscript(utf7.transcript));
    assert.ok(formatTranscript(utf7.transcript).includes(`SELECT "${courier.expected.nonAsciiFolder.wire}"`));
    const shared = await runProbe(spec(courier.imap, { account: account('alice', { mailbox: courier.expected.sharedFolder }) }));
    assert.equal(shared.success, true, formatTranscript(shared.transcript));
    assert.equal(shared.facts.mailbox?.writable, false);
  });

  it('carol: the probe passes, and her LIST "" "#shared.*" comes back empty', async () => {
    const result = await runProbe(spec(courier.imap, { account: account('carol') }));
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.deepEqual(names(result, 1), []);
    assert.equal(result.facts.mailbox?.exists, 0);
  });

  it('IMAP_TLS_REQUIRED=1: login/login_disabled without TLS; over STARTTLS the login works', async () => {
    const plain = await runProbe(spec(courier.tlsRequired, { tls: 'none', account: account('alice', { allowPlaintextAuth: true }) }));
    assert.ok(plain.facts.capabilities?.includes('LOGINDISABLED'), formatTranscript(plain.transcript));
    assertFailed(plain, 'login', 'login_disabled');
    const upgraded = await runProbe(spec(courier.tlsRequired));
    assertPassed(upgraded, ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
  });

  it('STARTTLS off (IMAP_STARTTLS=NO): starttls/starttls_unsupported', async () => {
    const result = await runProbe(spec(courier.noStarttls));
    assertFailed(result, 'starttls', 'starttls_unsupported');
    assert.ok(!result.facts.capabilitiesBeforeTls?.includes('STARTTLS'));
  });

  it('no CA configured: the test CA is untrusted, tls_certificate_invalid on 993 and after STARTTLS', async () => {
    const noCa = { insecureSkipVerify: false };
    assertFailed(await runProbe(spec(courier.imaps, { tls: 'tls', tlsConfig: noCa, account: undefined })), 'tls', 'tls_certificate_invalid');
    assertFailed(await runProbe(spec(courier.imap, { tlsConfig: noCa, account: undefined })), 'starttls', 'tls_certificate_invalid');
  });

  it('tls: tls against the plaintext port: tls/tls_handshake_failed', async () => {
    const result = await runProbe(spec(courier.imap, { tls: 'tls', account: undefined }));
    assertFailed(result, 'tls', 'tls_handshake_failed');
  });

  it('a wrong password and an unknown login: login/auth_failed, "NO Login failed." in the detail; under a shorter timeout, login/timeout', async () => {
    const wrongPassword = account('alice', { password: () => Promise.resolve('not-the-password') });
    const [wrong, unknown, impatient] = await Promise.all([
      runProbe(spec(courier.imap, { account: wrongPassword })),
      runProbe(spec(courier.imap, { account: account('alice', { username: 'nobody' }) })),
      runProbe(spec(courier.imap, { account: wrongPassword, timeoutMs: courier.expected.failureDelayMs / 2 })),
    ]);
    for (const result of [wrong, unknown]) {
      assertFailed(result, 'login', 'auth_failed');
      assert.match(result.failure!.detail, /NO Login failed\./);
      // Courier answers NO only for rejected credentials; its backend being down is a BYE (below).
      assert.match(result.failure!.hint, /DEBUG_LOGIN/);
      assert.doesNotMatch(result.failure!.hint, /authdaemond|backend|down/i);
    }
    assertFailed(impatient, 'login', 'timeout');
    assert.match(impatient.failure!.hint, /failure delay/i);
    assert.ok(!formatTranscript(wrong.transcript).includes('not-the-password'));
  });
});

describe('causes Courier reports with * BYE in answer to LOGIN: login/auth_unavailable, the words in the detail', () => {
  const cases: { cause: CourierCause; words: string; hint: RegExp[] }[] = [
    { cause: 'authdaemond-stopped', words: '* BYE Temporary problem, please try again later', hint: [/authdaemond/i, /home directory/i] },
    // authlib cannot chdir to the home: the same words as authdaemond down (only the server's log differs),
    // so the hint names both.
    { cause: 'home-missing', words: '* BYE Temporary problem, please try again later', hint: [/authdaemond/i, /home directory/i] },
    { cause: 'maildir-missing', words: '* BYE [ALERT] Fatal error: No such file or directory', hint: [/home directory/i] },
    { cause: 'wrong-uid', words: '* BYE [ALERT] Fatal error: Permission denied', hint: [/\buid\b/i, /\bgid\b/i] },
    {
      cause: 'wrong-gid',
      words: "* BYE [ALERT] Fatal error: Account's mailbox directory is not owned by the correct uid or gid",
      hint: [/\buid\b/i, /\bgid\b/i],
    },
  ];
  for (const { cause, words, hint } of cases) {
    it(cause, async () => {
      const restore = await courier.break(cause);
      let result: ProbeResult;
      try {
        result = await runProbe(spec(courier.imap));
      } finally {
        await restore();
      }
      assertFailed(result, 'login', 'auth_unavailable');
      assert.ok(result.failure!.detail.includes(words), result.failure!.detail);
      for (const pattern of hint) assert.match(result.failure!.hint, pattern);
      assert.ok(!JSON.stringify(result).includes(courier.accounts.alice.password));
    });
  }

  it('restored, alice passes again', async () => {
    assertPassed(await runProbe(spec(courier.imap)), ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
  });
});

describe('what a real Courier-IMAP shows beyond pass/fail', () => {
  it('NAMESPACE and GETQUOTAROOT (RFC 2087 form) exactly as announced; quota usage is the INBOX mail', async () => {
    const result = await runProbe(spec(courier.imap));
    assertPassed(result, ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
    const { facts } = result;
    assert.ok(formatTranscript(result.transcript).includes(`S: ${courier.expected.namespace}`));
    assert.deepEqual(facts.namespaces, {
      personal: [{ prefix: 'INBOX.', delimiter: '.' }],
      other: [],
      shared: [{ prefix: '#shared.', delimiter: '.' }, { prefix: 'shared.', delimiter: '.' }],
    });
    const { quota } = courier.expected;
    assert.deepEqual(facts.quota, { mailbox: 'INBOX', roots: [{ name: quota.root, resources: [{ name: 'STORAGE', usage: quota.usedKib, limit: quota.limitKib }] }] });
    const { samples } = parseExpositionFull(probeExposition(testJob('courier', 'alice'), result));
    const root = { target: 'courier', account: 'alice', root: quota.root };
    assert.equal(find(samples, 'imap_quota_storage_usage_bytes', root)?.value, quota.usedBytes);
    assert.equal(find(samples, 'imap_quota_storage_limit_bytes', root)?.value, quota.limitBytes);
    // Courier puts [MYRIGHTS "…"] in SELECT's answer: no MYRIGHTS command is sent.
    assert.equal(facts.mailbox?.rights, 'acdilrsw');
    assert.doesNotMatch(formatTranscript(result.transcript), /C: a\d+ MYRIGHTS/);
    assert.equal(find(samples, 'imap_mailbox_rights_info', { target: 'courier', account: 'alice', mailbox: 'INBOX', rights: 'acdilrsw' })?.value, 1);
    assert.deepEqual(select(samples, 'imap_namespace_info').map((s) => [s.labels.type, s.labels.prefix]),
      [['personal', 'INBOX.'], ['shared', '#shared.'], ['shared', 'shared.']]);
  });

  it('check prints the folders under each pattern (decoded), the capabilities and the namespaces', async () => {
    const passwordFile = join(courier.dir, 'alice.check.password');
    await writeFile(passwordFile, `${courier.accounts.alice.password}\n`);
    let out = '';
    const code = await runCheck(
      [`${courier.imap.host}:${courier.imap.port}`, '--starttls', '--user', courier.accounts.alice.username, '--password-file', passwordFile,
        '--ca-file', courier.caFile, '--list', '*', '--list', '#shared.*', '--timeout', `${courier.expected.failureDelayMs + 5000}ms`],
      { stdout: (text) => (out += text), stderr: (text) => (out += text), env: {} },
    );
    assert.equal(code, 0, out);
    assert.match(out, /^ {2}before TLS {2}IMAP4rev1 UIDPLUS CHILDREN NAMESPACE /m);
    assert.match(out, /^ {2}after TLS {3}−STARTTLS \+AUTH=PLAIN$/m);
    assert.match(out, /^ {2}rights {6}acdilrsw \(MYRIGHTS\)$/m);
    assert.match(out, /^namespaces {4}personal "INBOX\." \("\."\) · other users none · shared "#shared\." \("\."\) "shared\." \("\."\)$/m);
    assert.match(out, /^LIST "" "#shared\.\*" {2}2 folders\n {2}#shared\.bob\b.*\n {4}#shared\.bob\.Projects\b/m);
    assert.match(out, /^ {4}INBOX\.Entwürfe\b/m);
    assert.match(out, new RegExp(`^quota {9}"${courier.expected.quota.root}": STORAGE ${courier.expected.quota.usedKib} KiB of ${courier.expected.quota.limitKib} KiB`, 'm'));
    assert.ok(!out.includes(courier.accounts.alice.password));
  });

  it('{namespace: shared}: #shared.* and shared.* for the one config line; the expectation holds for them together', async () => {
    const entry: NamespaceListRequest = { namespace: 'shared', expect: { minFolders: 1, folders: [courier.expected.sharedFolder] } };
    const alice = await runProbe(spec(courier.imap, { account: account('alice', { list: [entry] }) }));
    assertPassed(alice, ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
    assert.deepEqual(alice.facts.lists.map((l) => [l.pattern, l.folders.map((f) => f.name).sort()]), [
      ['#shared.*', courier.expected.listShared],
      ['shared.*', []],
    ]);
    const carol = await runProbe(spec(courier.imap, { account: account('carol', { list: [{ namespace: 'shared', expect: { minFolders: 1 } }] }) }));
    assertFailed(carol, 'list', 'expectation_failed');
    assert.equal(carol.failure?.detail, '{namespace: shared}: LIST "" "#shared.*", LIST "" "shared.*" returned 0 folders, expected at least 1');
    assert.match(carol.failure?.hint ?? '', /shared folders/i);
  });
});

describe('what only an expectation catches: Courier answers OK', () => {
  it('INBOX cur/ owned by another uid: SELECT says 0 EXISTS; min_messages makes it select/expectation_failed', async () => {
    const restore = await courier.break('cur-wrong-owner');
    let result: ProbeResult;
    try {
      result = await runProbe(spec(courier.imap, { account: account('alice', { expect: { minMessages: 1 } }) }));
    } finally {
      await restore();
    }
    assertFailed(result, 'select', 'expectation_failed');
    assert.equal(result.facts.mailbox?.exists, 0);
    assert.match(result.failure!.detail, /INBOX/);
    assert.match(result.failure!.detail, /\b0\b.*\b1\b/);
    assert.match(result.failure!.hint, /another uid/i);
  });

  it('carol sees no virtual shared folders: min_folders makes it list/expectation_failed', async () => {
    const shared = { reference: '', pattern: '#shared.*', expect: { minFolders: 1 } };
    const result = await runProbe(spec(courier.imap, { account: account('carol', { list: [shared] }) }));
    assertFailed(result, 'list', 'expectation_failed');
    assert.equal(result.failure!.detail, 'LIST "" "#shared.*" returned 0 folders, expected at least 1');
    assert.match(result.failure!.hint, /shared folders/i);
  });

  it('alice meets the same expectations, and the expected shared folder is reported present', async () => {
    const shared = { reference: '', pattern: '#shared.*', expect: { minFolders: 1, folders: [courier.expected.sharedFolder] } };
    const result = await runProbe(spec(courier.imap, { account: account('alice', { expect: { minMessages: 1 }, list: [shared] }) }));
    assertPassed(result, ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
    assert.deepEqual(result.facts.lists[0]!.expectedFolders, [{ name: courier.expected.sharedFolder, present: true }]);
  });
});
