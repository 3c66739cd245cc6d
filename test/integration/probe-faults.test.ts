// The engine against a scripted fake server: every fault a real server will not
// produce ends in the expected stage and reason, within the deadline, with no socket left open.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProbe } from '../../src/probe/run-probe.js';
import { formatTranscript } from '../../src/probe/transcript.js';
import type { ProbeSpec } from '../../src/probe/types.js';
import {
  badTo,
  byeGreeting,
  disconnectDuringLogin,
  endlessLine,
  garbage,
  hugeLiteral,
  silent,
  startFakeImapServer,
  tooManyResponses,
  trickle,
  type FakeHandler,
  type FakeImapServerOptions,
} from '../fakes/fake-imap-server.js';
import { closedPort } from '../fixtures/ports.js';
import { makeTestPki, type TestPki } from '../fixtures/pki.js';
import { account, assertFailed, assertNoPassword, fakeSpec, imap, PASSWORD, probeAgainst as probeFake, USERS } from '../helpers/fake-probe.js';

let pki: TestPki;
let pkiDir: string;
before(async () => {
  pkiDir = await mkdtemp(join(tmpdir(), 'imap-exporter-faults-'));
  pki = await makeTestPki(pkiDir);
});
after(() => rm(pkiDir, { recursive: true, force: true }));

// The test CA is trusted unless a test says otherwise.
const withCa = (overrides: Partial<ProbeSpec>): Partial<ProbeSpec> => ({ tlsConfig: { insecureSkipVerify: false, caFile: pki.caCert }, ...overrides });
const spec = (server: { host: string; port: number }, overrides: Partial<ProbeSpec> = {}) => fakeSpec(server, withCa(overrides));
const probeAgainst = (handler: FakeHandler, overrides: Partial<ProbeSpec> = {}, serverOptions: FakeImapServerOptions = {}) =>
  probeFake(handler, withCa(overrides), serverOptions);

describe('probe engine against a faulty server', () => {
  it('a server that never greets: greeting timeout within the deadline', async () => {
    const { result } = await probeAgainst(silent(), { timeoutMs: 800 });
    assertFailed(result, 'greeting', 'timeout');
    assert.ok(result.durationSeconds >= 0.75);
  });

  it('a greeting trickled a byte at a time: greeting timeout', async () => {
    const { result } = await probeAgainst(trickle('* OK [CAPABILITY IMAP4rev1] slowly ready\r\n', 10), { timeoutMs: 800 });
    assertFailed(result, 'greeting', 'timeout');
  });

  it('* BYE greeting: greeting_bye', async () => {
    const { result } = await probeAgainst(byeGreeting('Too many connections'));
    assertFailed(result, 'greeting', 'greeting_bye');
    assert.match(result.failure!.detail, /Too many connections/);
  });

  it('another protocol on the port: greeting_invalid', async () => {
    const { result } = await probeAgainst(garbage('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    assertFailed(result, 'greeting', 'greeting_invalid');
  });

  it('HTTP on the port: greeting_invalid', async () => {
    const { result } = await probeAgainst(garbage('HTTP/1.1 400 Bad Request\r\n\r\n'));
    assertFailed(result, 'greeting', 'greeting_invalid');
  });

  it('a line that never ends: protocol_error once it passes 64 KiB, not a memory blow-up', async () => {
    const { result } = await probeAgainst(endlessLine(), { timeoutMs: 5000 });
    assertFailed(result, 'greeting', 'protocol_error');
    assert.match(result.failure!.detail, /longer than 65536 bytes/);
  });

  it('a literal announced over the limit: protocol_error in list', async () => {
    const { result } = await probeAgainst(hugeLiteral(4096, USERS), { limits: { maxLiteralBytes: 1024 } });
    assertFailed(result, 'list', 'protocol_error');
    assert.match(result.failure!.detail, /literal of 4096 bytes exceeds the limit of 1024/);
  });

  it('a literal within the limit is read whole', async () => {
    const { result } = await probeAgainst(hugeLiteral(900, USERS), { limits: { maxLiteralBytes: 1024 } });
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.equal(result.facts.lists[0]?.folders[0]?.name.length, 900);
  });

  it('too many responses to one command: protocol_error', async () => {
    const { result } = await probeAgainst(tooManyResponses(500, USERS), { limits: { maxResponsesPerCommand: 300 } });
    assertFailed(result, 'list', 'protocol_error');
    assert.match(result.failure!.detail, /more than 300 responses to LIST/);
    // The transcript is bounded but keeps its end, where the failure is.
    assert.ok(result.transcript.length <= 121);
    assert.match(result.transcript.at(-1)!.text, /list failed: protocol_error/);
    assert.ok(result.transcript.some((e) => /lines not recorded/.test(e.text)));
  });

  it('disconnect in the middle of LOGIN: auth_unavailable, said to be a close without * BYE', async () => {
    const { result } = await probeAgainst(disconnectDuringLogin(USERS));
    assertFailed(result, 'login', 'auth_unavailable');
    assert.match(result.failure!.detail, /in answer to LOGIN, closing the connection without \* BYE/);
    assertNoPassword(result);
  });

  it('BAD to LOGIN: protocol_error; BAD to SELECT: protocol_error; BAD to LIST: list_failed', async () => {
    assertFailed((await probeAgainst(badTo('LOGIN', USERS))).result, 'login', 'protocol_error');
    assertFailed((await probeAgainst(badTo('SELECT', USERS))).result, 'select', 'protocol_error');
    assertFailed((await probeAgainst(badTo('LIST', USERS))).result, 'list', 'list_failed');
  });

  it('NO to LIST: list_failed; NO to SELECT: select_failed', async () => {
    const listNo = await probeAgainst(imap({ list: { '*': { no: 'LIST not allowed' } } }));
    assertFailed(listNo.result, 'list', 'list_failed');
    const selectNo = await probeAgainst(imap(), { account: account({ mailbox: 'Missing' }) });
    assertFailed(selectNo.result, 'select', 'select_failed');
  });

  it('a server that echoes the password back never gets it into the transcript or detail', async () => {
    const echo = imap({
      overrides: {
        LOGIN: (conn, cmd) => conn.write(`${cmd.tag} BAD you said ${cmd.args.join(' ')}\r\n`),
      },
    });
    const { result, server } = await probeAgainst(echo);
    assertFailed(result, 'login', 'protocol_error');
    assert.ok(server.received.some((line) => line.includes('LOGIN')), 'the LOGIN reached the server');
    assertNoPassword(result);
    assert.match(formatTranscript(result.transcript), /C: a\d+ LOGIN "alice" \*\*\*/);
  });

  it('a server that closes on LOGOUT without answering has still ended the session', async () => {
    const closing = imap({ overrides: { LOGOUT: (conn) => conn.destroy() } });
    const { result } = await probeAgainst(closing);
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.match(formatTranscript(result.transcript), /closed the connection without \* BYE/);
  });

  it('a server that never answers LOGOUT: logout/timeout', async () => {
    const mute = imap({ overrides: { LOGOUT: () => undefined } });
    const { result } = await probeAgainst(mute, { timeoutMs: 800 });
    assertFailed(result, 'logout', 'timeout');
  });

  it('refused connection: connect/connection_refused', async () => {
    const port = await closedPort();
    const result = await runProbe(spec({ host: '127.0.0.1', port }));
    assertFailed(result, 'connect', 'connection_refused');
  });

  it('unresolvable host: resolve/dns_error', async () => {
    const result = await runProbe(spec({ host: 'does-not-exist.invalid', port: 143 }));
    assertFailed(result, 'resolve', 'dns_error');
  });

  it('an unreadable password: login/credentials_unavailable, and nothing sent', async () => {
    const failing = account({ password: () => Promise.reject(new Error('cannot read password file /run/secrets/x: no such file')) });
    const { result, server } = await probeAgainst(imap(), { account: failing });
    assertFailed(result, 'login', 'credentials_unavailable');
    assert.match(result.failure!.detail, /\/run\/secrets\/x/);
    assert.ok(!server.received.some((line) => /LOGIN|AUTHENTICATE/i.test(line)));
  });

  it('aborted by the caller: timeout, said to be an abort', async () => {
    const server = await startFakeImapServer(silent());
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const result = await runProbe(spec(server, { timeoutMs: 10_000 }), { signal: controller.signal });
      assertFailed(result, 'greeting', 'timeout');
      assert.match(result.failure!.detail, /aborted/);
      assert.ok(result.durationSeconds < 2);
      await server.waitForNoOpenConnections(2000);
    } finally {
      await server.close();
    }
  });
});

describe('probe engine: authentication and TLS rules', () => {
  it('LOGIN with a password that needs escaping works', async () => {
    const { result } = await probeAgainst(imap());
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assertNoPassword(result);
  });

  it('LOGIN with a non-ASCII password sends it as a literal, with and without LITERAL+', async () => {
    const unicode = 'pässwörd-✓';
    for (const capabilities of [['IMAP4rev1', 'LITERAL+'], ['IMAP4rev1']]) {
      const { result, server } = await probeAgainst(imap({ users: { alice: unicode }, capabilities }), {
        account: account({ password: () => Promise.resolve(unicode) }),
      });
      assert.equal(result.success, true, `${capabilities.join(' ')}\n${formatTranscript(result.transcript)}`);
      assert.ok(server.received.some((line) => line.includes(unicode)), 'the server got the password');
      assert.ok(!JSON.stringify(result).includes(unicode), 'the password leaked into the result');
      // A synchronizing literal waits for the server's `+`; LITERAL+ sends it in one go.
      const continued = result.transcript.some((e) => e.direction === 'S' && e.text.startsWith('+'));
      assert.equal(continued, !capabilities.includes('LITERAL+'), formatTranscript(result.transcript));
    }
  });

  it('AUTHENTICATE PLAIN rides on SASL-IR when advertised, else waits for the continuation', async () => {
    const withIr = await probeAgainst(imap(), { account: account({ auth: 'plain' }) });
    assert.equal(withIr.result.success, true, formatTranscript(withIr.result.transcript));
    assert.match(formatTranscript(withIr.result.transcript), /C: a\d+ AUTHENTICATE PLAIN \*\*\*/);
    assertNoPassword(withIr.result);
    const noIr = await probeAgainst(imap({ capabilities: ['IMAP4rev1', 'AUTH=PLAIN'] }), {
      account: account({ auth: 'plain' }),
    });
    assert.equal(noIr.result.success, true, formatTranscript(noIr.result.transcript));
    assert.match(formatTranscript(noIr.result.transcript), /C: \*\*\*/);
    assertNoPassword(noIr.result);
  });

  it('AUTHENTICATE CRAM-MD5 answers the challenge', async () => {
    const { result } = await probeAgainst(imap(), { account: account({ auth: 'cram-md5' }) });
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assertNoPassword(result);
  });

  it('a wrong password: login/auth_failed with the server words', async () => {
    const { result } = await probeAgainst(imap({ users: { alice: 'other' } }));
    assertFailed(result, 'login', 'auth_failed');
    assert.match(result.failure!.detail, /NO/);
    assertNoPassword(result);
  });

  it('AUTHENTICATE XOAUTH2: the token rides on SASL-IR; a refusal answers the error challenge and is auth_failed', async () => {
    const xoauth2 = (good: string) =>
      imap({
        capabilities: ['IMAP4rev1', 'SASL-IR', 'AUTH=XOAUTH2'],
        overrides: {
          AUTHENTICATE: async (conn, cmd, session) => {
            const [mechanism, payload = ''] = cmd.args;
            const decoded = Buffer.from(payload, 'base64').toString('utf8');
            if (mechanism === 'XOAUTH2' && decoded === `user=alice\x01auth=Bearer ${good}\x01\x01`) {
              session.user = 'alice';
              conn.write(`${cmd.tag} OK Success\r\n`);
              return;
            }
            // RFC 7628 style: an error challenge, the client's empty answer, then NO.
            conn.write(`+ ${Buffer.from('{"status":"401"}').toString('base64')}\r\n`);
            await conn.readLine();
            conn.write(`${cmd.tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n`);
          },
        },
      });
    const ok = await probeAgainst(xoauth2(PASSWORD), { account: account({ auth: 'xoauth2' }) });
    assert.equal(ok.result.success, true, formatTranscript(ok.result.transcript));
    assert.match(formatTranscript(ok.result.transcript), /C: a\d+ AUTHENTICATE XOAUTH2 \*\*\*/);
    assertNoPassword(ok.result);
    const refused = await probeAgainst(xoauth2('another-token'), { account: account({ auth: 'xoauth2' }) });
    assertFailed(refused.result, 'login', 'auth_failed');
    assertNoPassword(refused.result);
  });

  it('a mechanism not advertised: auth_mechanism_unsupported', async () => {
    const { result } = await probeAgainst(imap(), { account: account({ auth: 'xoauth2' }) });
    assertFailed(result, 'login', 'auth_mechanism_unsupported');
  });

  it('LOGINDISABLED: login_disabled, and no password sent', async () => {
    const { result, server } = await probeAgainst(imap({ capabilities: ['IMAP4rev1', 'LOGINDISABLED'] }));
    assertFailed(result, 'login', 'login_disabled');
    assert.ok(!server.received.some((line) => /LOGIN "/i.test(line)));
  });

  it('plain text without allow_plaintext_auth: plaintext_refused, and no password sent', async () => {
    const { result, server } = await probeAgainst(imap(), { account: account({ allowPlaintextAuth: false }) });
    assertFailed(result, 'login', 'plaintext_refused');
    assert.ok(!server.received.some((line) => /LOGIN|AUTHENTICATE/i.test(line)));
  });

  it('STARTTLS: verified handshake, capabilities asked again, Courier-style LIST parsed', async () => {
    const courier = imap({
      tls: pki.server,
      capabilities: ['IMAP4rev1', 'UIDPLUS', 'CHILDREN', 'NAMESPACE', 'STARTTLS', 'LOGINDISABLED', 'XMAGICTRASH'],
      capabilitiesAfterTls: ['IMAP4rev1', 'UIDPLUS', 'CHILDREN', 'NAMESPACE', 'XMAGICTRASH', 'AUTH=PLAIN'],
      list: {
        '*': ['* LIST (\\HasNoChildren) "." "INBOX.Drafts"', '* LIST (\\Unmarked \\HasChildren) "." "INBOX"'],
        '#shared.*': ['* LIST (\\Noselect \\HasChildren) "." "#shared.postmaster"'],
      },
    });
    const { result } = await probeAgainst(courier, {
      tls: 'starttls',
      account: account({ allowPlaintextAuth: false, list: [{ reference: '', pattern: '*' }, { reference: '', pattern: '#shared.*' }] }),
    });
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.deepEqual(result.stages.map((s) => s.stage), ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']);
    assert.ok(result.facts.capabilitiesBeforeTls?.includes('LOGINDISABLED'));
    assert.ok(!result.facts.capabilities?.includes('LOGINDISABLED'));
    assert.equal(result.facts.tls?.authorized, true);
    assert.equal(result.facts.tls?.certNotAfter, pki.serverNotAfter);
    assert.deepEqual(result.facts.lists.map((l) => l.folders.map((f) => f.name)), [['INBOX.Drafts', 'INBOX'], ['#shared.postmaster']]);
    assert.deepEqual(result.facts.mailbox, {
      name: 'INBOX', exists: 3, recent: 0, uidValidity: 1, uidNext: 4, writable: true,
      flags: ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'],
    });
  });

  it('STARTTLS not advertised: starttls_unsupported', async () => {
    const { result } = await probeAgainst(imap(), { tls: 'starttls' });
    assertFailed(result, 'starttls', 'starttls_unsupported');
  });

  it('STARTTLS refused: starttls_rejected', async () => {
    const { result } = await probeAgainst(imap({ capabilities: ['IMAP4rev1', 'STARTTLS'], starttlsReply: { no: 'TLS unavailable' } }), {
      tls: 'starttls',
    });
    assertFailed(result, 'starttls', 'starttls_rejected');
  });

  it('bytes injected after the STARTTLS OK: protocol_error, not read as protected', async () => {
    const injecting = imap({
      tls: pki.server,
      overrides: { STARTTLS: (conn, cmd) => conn.write(`${cmd.tag} OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n`) },
    });
    const { result } = await probeAgainst(injecting, { tls: 'starttls' });
    assertFailed(result, 'starttls', 'protocol_error');
  });

  it('implicit TLS with a self-signed, an expired and a wrong-host certificate', async () => {
    const selfSigned = await probeAgainst(imap(), { tls: 'tls', account: undefined }, { tls: pki.selfSigned });
    assertFailed(selfSigned.result, 'tls', 'tls_certificate_invalid');
    const expired = await probeAgainst(imap(), { tls: 'tls', account: undefined }, { tls: pki.expired });
    assertFailed(expired.result, 'tls', 'tls_certificate_expired');
    assert.equal(expired.result.facts.tls?.certNotAfter, pki.expiredNotAfter);
    const wrongHost = await probeAgainst(imap(), { tls: 'tls', account: undefined }, { tls: pki.wrongHost });
    assertFailed(wrongHost.result, 'tls', 'tls_certificate_invalid');
    assert.match(wrongHost.result.failure!.detail, /ERR_TLS_CERT_ALTNAME_INVALID/);
    const skipped = await probeAgainst(imap(), {
      tls: 'tls',
      account: undefined,
      tlsConfig: { insecureSkipVerify: true },
    }, { tls: pki.selfSigned });
    assert.equal(skipped.result.success, true, formatTranscript(skipped.result.transcript));
  });

  it('implicit TLS against a plain-text server: tls_handshake_failed', async () => {
    const { result } = await probeAgainst(imap(), { tls: 'tls', account: undefined });
    assertFailed(result, 'tls', 'tls_handshake_failed');
  });

  it('a target without an account: connect, greeting, logout only', async () => {
    const { result, server } = await probeAgainst(imap(), { account: undefined });
    assert.equal(result.success, true);
    assert.deepEqual(result.stages.map((s) => s.stage), ['connect', 'greeting', 'logout']);
    assert.ok(server.received.some((line) => /LOGOUT/.test(line)));
  });
});

describe('probe engine over IPv6 loopback', () => {
  it('probes [::1] like any other address', async () => {
    const { result } = await probeAgainst(imap(), {}, { host: '::1' });
    assert.equal(result.success, true, formatTranscript(result.transcript));
    assert.equal(result.facts.address, '::1');
    assert.deepEqual(result.stages.map((s) => s.stage), ['connect', 'greeting', 'login', 'select', 'list', 'logout']);
  });
});
