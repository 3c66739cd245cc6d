// The diagnoses against a scripted fake server: what Courier-IMAP and Dovecot say when
// the account cannot be opened, the server's own words kept in the detail, RFC 5530
// codes, the hints by stage and cause, and the polite LOGOUT after a failed stage.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatTranscript } from '../../src/probe/transcript.js';
import { badTo, byeTo, silent, type CommandHandler } from '../fakes/fake-imap-server.js';
import { makeTestPki, type TestPki } from '../fixtures/pki.js';
import { account, assertFailed, assertNoPassword, imap, probeAgainst, USERS } from '../helpers/fake-probe.js';

let pki: TestPki;
let pkiDir: string;
before(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), 'imap-exporter-diagnosis-'));
  pki = await makeTestPki(pkiDir);
});
after(() => rm(pkiDir, { recursive: true, force: true }));

const loginAnswer = (line: string): CommandHandler => (conn, cmd) => conn.write(`${line.replace('TAG', cmd.tag)}\r\n`);
const logoutsReceived = (received: readonly string[]) => received.filter((line) => / LOGOUT$/.test(line)).length;

describe('the account cannot be checked or opened: auth_unavailable', () => {
  it('* BYE during LOGIN (Courier, authdaemond down): the BYE in the detail, authdaemond in the hint, no LOGOUT', async () => {
    const { result, server } = await probeAgainst(byeTo('LOGIN', 'Temporary problem, please try again later', USERS));
    assertFailed(result, 'login', 'auth_unavailable');
    assert.equal(result.failure!.detail, 'the server ended the session in answer to LOGIN: * BYE Temporary problem, please try again later');
    assert.match(result.failure!.hint, /authdaemond/);
    assert.equal(logoutsReceived(server.received), 0);
    assertNoPassword(result);
  });

  it('* BYE during AUTHENTICATE for a missing home directory: the hint names the home directory', async () => {
    const { result } = await probeAgainst(byeTo('AUTHENTICATE', '[ALERT] Fatal error: No such file or directory', USERS), {
      account: account({ auth: 'plain' }),
    });
    assertFailed(result, 'login', 'auth_unavailable');
    assert.match(result.failure!.detail, /in answer to AUTHENTICATE: \* BYE \[ALERT\] Fatal error: No such file or directory$/);
    assert.match(result.failure!.hint, /home directory/);
  });

  it('* BYE right after a successful LOGIN, in answer to SELECT (wrong uid): select ✗ auth_unavailable, uid and gid in the hint', async () => {
    const { result } = await probeAgainst(byeTo('SELECT', '[ALERT] Fatal error: Permission denied', USERS));
    assertFailed(result, 'select', 'auth_unavailable');
    assert.equal(
      result.failure!.detail,
      'the server accepted the login, then ended the session in answer to SELECT: * BYE [ALERT] Fatal error: Permission denied',
    );
    assert.match(result.failure!.hint, /uid.*gid/);
  });

  it('a close without a word right after LOGIN: auth_unavailable, said to be without * BYE', async () => {
    const { result } = await probeAgainst(imap({ overrides: { SELECT: (conn) => conn.destroy() } }));
    assertFailed(result, 'select', 'auth_unavailable');
    assert.match(result.failure!.detail, /accepted the login, then ended the session in answer to SELECT, closing the connection without \* BYE/);
  });

  it('NO [UNAVAILABLE] to LOGIN (Dovecot, auth process down): auth_unavailable, and a polite LOGOUT on the open connection', async () => {
    const { result, server } = await probeAgainst(imap({ overrides: { LOGIN: loginAnswer('TAG NO [UNAVAILABLE] Temporary authentication failure.') } }));
    assertFailed(result, 'login', 'auth_unavailable');
    assert.equal(result.failure!.detail, 'the server answered NO [UNAVAILABLE] Temporary authentication failure.');
    assert.match(result.failure!.hint, /\[UNAVAILABLE\].*authdaemond/);
    assert.equal(logoutsReceived(server.received), 1);
  });
});

describe("the server's words reach the detail", () => {
  it('[ALERT] in the NO to LOGIN, and an untagged [ALERT] before it', async () => {
    const alerting = imap({
      overrides: {
        LOGIN: (conn, cmd) => conn.write(`* OK [ALERT] Your account expires tomorrow\r\n${cmd.tag} NO [ALERT] Account is locked\r\n`),
      },
    });
    const { result } = await probeAgainst(alerting);
    assertFailed(result, 'login', 'auth_failed');
    assert.equal(result.failure!.detail, 'the server answered NO [ALERT] Account is locked; the server said: [ALERT] Your account expires tomorrow');
  });

  it('a * BYE before a close later in the session: connection_closed, the BYE kept', async () => {
    const { result } = await probeAgainst(byeTo('LIST', 'Server shutting down.', USERS));
    assertFailed(result, 'list', 'connection_closed');
    assert.match(result.failure!.detail, /during list: \* BYE Server shutting down\.$/);
  });

  it('a * BYE and then silence: timeout, the BYE still in the detail', async () => {
    const { result } = await probeAgainst(imap({ overrides: { SELECT: (conn) => conn.write('* BYE [ALERT] Going down\r\n') } }), { timeoutMs: 800 });
    assertFailed(result, 'select', 'timeout');
    assert.match(result.failure!.detail, /the server said: \* BYE \[ALERT\] Going down$/);
  });
});

describe('RFC 5530 response codes', () => {
  const cases: [string, string, RegExp][] = [
    ['AUTHENTICATIONFAILED', 'auth_failed', /wrong password or unknown login id.*DEBUG_LOGIN/],
    ['PRIVACYREQUIRED', 'auth_failed', /encrypted connection/],
    ['EXPIRED', 'auth_failed', /expired/],
    ['CONTACTADMIN', 'auth_failed', /administrators/],
    ['LIMIT', 'auth_failed', /limit/],
    ['INUSE', 'auth_failed', /in use by another session/],
    ['SERVERBUG', 'auth_failed', /bug/],
  ];
  for (const [code, reason, hint] of cases) {
    it(`NO [${code}] to LOGIN: ${reason}, the hint says what the code means`, async () => {
      const { result } = await probeAgainst(imap({ overrides: { LOGIN: loginAnswer(`TAG NO [${code}] Refused.`) } }));
      assertFailed(result, 'login', reason);
      assert.equal(result.failure!.detail, `the server answered NO [${code}] Refused.`);
      assert.match(result.failure!.hint, hint);
    });
  }

  it('NO [NONEXISTENT] and NO [INUSE] to SELECT: select_failed with the hint of the code', async () => {
    const missing = await probeAgainst(imap({ mailboxes: { INBOX: { no: '[NONEXISTENT] Mailbox does not exist' } } }));
    assertFailed(missing.result, 'select', 'select_failed');
    assert.match(missing.result.failure!.hint, /does not exist/);
    const busy = await probeAgainst(imap({ mailboxes: { INBOX: { no: '[INUSE] Mailbox is locked' } } }));
    assertFailed(busy.result, 'select', 'select_failed');
    assert.match(busy.result.failure!.hint, /in use by another session/);
  });
});

describe('hints by stage and cause', () => {
  it('no greeting: a service that waits for the client, or an implicit-TLS port probed in plain', async () => {
    const { result } = await probeAgainst(silent(), { timeoutMs: 800 });
    assertFailed(result, 'greeting', 'timeout');
    assert.match(result.failure!.hint, /waits for the client.*implicit-TLS.*tls: tls/);
  });

  it('tls: tls against a plaintext port: the server answered in plaintext, use starttls', async () => {
    const { result } = await probeAgainst(imap(), { tls: 'tls', account: undefined });
    assertFailed(result, 'tls', 'tls_handshake_failed');
    assert.match(result.failure!.detail, /answered in plaintext.*ERR_SSL_WRONG_VERSION_NUMBER/);
    assert.match(result.failure!.hint, /plaintext.*starttls/);
  });

  it('a certificate for another name lists the names it is for; an expired one its notAfter; an untrusted one says so', async () => {
    const tls = { tls: 'tls' as const, account: undefined, tlsConfig: { insecureSkipVerify: false, caFile: pki.caCert } };
    const wrongHost = await probeAgainst(imap(), tls, { tls: pki.wrongHost });
    assertFailed(wrongHost.result, 'tls', 'tls_certificate_invalid');
    assert.match(wrongHost.result.failure!.detail, /ERR_TLS_CERT_ALTNAME_INVALID.*the certificate is for DNS:wrong\.example/);
    assert.match(wrongHost.result.failure!.hint, /another host name/);
    const expired = await probeAgainst(imap(), tls, { tls: pki.expired });
    assertFailed(expired.result, 'tls', 'tls_certificate_expired');
    assert.match(expired.result.failure!.detail, /notAfter 2021-01-01T00:00:00\.000Z/);
    const selfSigned = await probeAgainst(imap(), tls, { tls: pki.selfSigned });
    assertFailed(selfSigned.result, 'tls', 'tls_certificate_invalid');
    assert.match(selfSigned.result.failure!.hint, /not trusted/);
  });
});

describe('polite LOGOUT after a failed stage', () => {
  it('after NO to LOGIN and NO to SELECT: LOGOUT sent, in the transcript, not a stage', async () => {
    const wrong = await probeAgainst(imap({ users: { alice: 'other' } }));
    assertFailed(wrong.result, 'login', 'auth_failed');
    assert.equal(logoutsReceived(wrong.server.received), 1);
    assert.deepEqual(wrong.result.stages.map((s) => s.stage), ['connect', 'greeting', 'login']);
    const transcript = formatTranscript(wrong.result.transcript);
    assert.match(transcript, /-- LOGOUT after the failed login stage/);
    assert.match(transcript, /C: a\d+ LOGOUT\n.*S: \* BYE Logging out\n.*S: a\d+ OK Logout completed\.\n.*-- LOGOUT answered OK/);
    const missing = await probeAgainst(imap(), { account: account({ mailbox: 'Missing' }) });
    assertFailed(missing.result, 'select', 'select_failed');
    assert.equal(logoutsReceived(missing.server.received), 1);
  });

  it('a server that never answers the polite LOGOUT does not hold the probe past the deadline', async () => {
    const { result } = await probeAgainst(imap({ users: { alice: 'other' }, overrides: { LOGOUT: () => undefined } }));
    assertFailed(result, 'login', 'auth_failed');
    assert.match(formatTranscript(result.transcript), /no answer to LOGOUT within \d+ ms/);
  });

  it('never after a protocol error or a timeout', async () => {
    const bad = await probeAgainst(badTo('LOGIN', USERS));
    assertFailed(bad.result, 'login', 'protocol_error');
    assert.equal(logoutsReceived(bad.server.received), 0);
    const mute = await probeAgainst(imap({ overrides: { SELECT: () => undefined } }), { timeoutMs: 800 });
    assertFailed(mute.result, 'select', 'timeout');
    assert.equal(logoutsReceived(mute.server.received), 0);
  });
});

describe('expectations', () => {
  it('fewer messages than min_messages: select ✗ expectation_failed, the facts kept, a polite LOGOUT', async () => {
    const { result, server } = await probeAgainst(imap({ mailboxes: { INBOX: { exists: 0, uidValidity: 7 } } }), {
      account: account({ expect: { minMessages: 1 } }),
    });
    assertFailed(result, 'select', 'expectation_failed');
    assert.equal(result.failure!.detail, 'SELECT INBOX showed 0 messages, expected at least 1');
    assert.match(result.failure!.hint, /min_messages/);
    assert.equal(result.facts.mailbox?.exists, 0);
    assert.equal(logoutsReceived(server.received), 1);
  });

  it('every LIST runs and is recorded before the stage fails on the first unmet expectation', async () => {
    const server = imap({
      list: {
        '*': ['* LIST (\\HasNoChildren) "." "INBOX"', '* LIST (\\HasNoChildren) "." "INBOX.Sent"'],
        '#shared.*': [],
      },
    });
    const { result } = await probeAgainst(server, {
      account: account({
        list: [
          { reference: '', pattern: '#shared.*', expect: { minFolders: 1 } },
          { reference: '', pattern: '*', expect: { folders: ['INBOX.Sent', 'INBOX.Archive'] } },
        ],
      }),
    });
    assertFailed(result, 'list', 'expectation_failed');
    assert.equal(result.failure!.detail, 'LIST "" "#shared.*" returned 0 folders, expected at least 1');
    assert.match(result.failure!.hint, /no virtual shared folders are accessible to this login id/);
    assert.deepEqual(result.facts.lists.map((l) => [l.pattern, l.folders.length, l.expectedFolders]), [
      ['#shared.*', 0, undefined],
      ['*', 2, [{ name: 'INBOX.Sent', present: true }, { name: 'INBOX.Archive', present: false }]],
    ]);
  });

  it('a NO to one LIST does not stop the others; the stage fails with list_failed', async () => {
    const { result, server } = await probeAgainst(imap({ list: { '*': { no: '[NOPERM] Not allowed' }, '%': ['* LIST () "." INBOX'] } }), {
      account: account({ list: [{ reference: '', pattern: '*' }, { reference: '', pattern: '%' }] }),
    });
    assertFailed(result, 'list', 'list_failed');
    assert.equal(result.failure!.detail, 'LIST "" "*": the server answered NO [NOPERM] Not allowed');
    assert.match(result.failure!.hint, /ACLs/);
    assert.deepEqual(result.facts.lists.map((l) => l.pattern), ['%']);
    assert.equal(logoutsReceived(server.received), 1);
  });
});
