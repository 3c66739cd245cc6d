// The hint table case by case, and classify's reasons and causes: each situation an
// administrator meets (issue 8's table, PLAN's interface table) gets a hint naming its cause.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConnectionClosedError, type ClosedUnder } from '../../src/imap/errors.js';
import { classify } from '../../src/probe/classify.js';
import { Deadline } from '../../src/probe/deadline.js';
import { ProbeError } from '../../src/probe/errors.js';
import { hintFor, RESPONSE_CODES, responseCodeCause, type Cause } from '../../src/probe/hints.js';
import { REASON_HINTS, type Reason } from '../../src/probe/reasons.js';
import { STAGES, type Stage } from '../../src/probe/stages.js';

const open = new Deadline(60_000);
after(() => open.clear());

/** What a failed probe would show: classify, then the hint for its phase and cause. */
function diagnose(error: unknown, stage: Stage, deadline: Deadline = open) {
  const classified = classify(error, stage, deadline);
  return { ...classified, hint: hintFor(classified.reason, stage, classified.cause) };
}

function errno(code: string, extra: Record<string, unknown> = {}): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code, ...extra });
}

function closedUnder(under: ClosedUnder, cause?: unknown): ConnectionClosedError {
  return new ConnectionClosedError('the server closed the connection', { under, cause });
}

describe('hintFor: the table', () => {
  it('falls back to the general hint of every reason', () => {
    for (const reason of Object.keys(REASON_HINTS) as Reason[]) assert.equal(hintFor(reason), REASON_HINTS[reason]);
  });

  it('a timeout names what waited, stage by stage', () => {
    const cases: [Stage, RegExp][] = [
      ['resolve', /resolver/],
      ['connect', /firewall dropping packets/],
      ['tls', /handshake/],
      ['greeting', /waits for the client.*implicit-TLS.*tls: tls/],
      ['starttls', /STARTTLS/],
      ['login', /failure delay.*Dovecot about 2 s, Courier about 5 s/],
      ['select', /SELECT/],
      ['list', /LIST/],
      ['logout', /LOGOUT/],
    ];
    assert.deepEqual(cases.map(([stage]) => stage), [...STAGES]);
    for (const [stage, pattern] of cases) assert.match(hintFor('timeout', stage), pattern, stage);
    // A login timeout is not blamed on a firewall: the server is deliberately slow to say NO.
    assert.doesNotMatch(hintFor('timeout', 'login'), /firewall/);
  });

  it('a timeout from the exporter shutting down is said to be one, at any stage', () => {
    for (const stage of STAGES) assert.match(hintFor('timeout', stage, 'aborted'), /shutting down/);
  });

  it('refused and unreachable also name a firewall REJECT', () => {
    assert.match(hintFor('connection_refused', 'connect'), /nothing listens.*REJECT/);
    assert.match(hintFor('network_unreachable', 'connect'), /REJECT/);
    assert.match(hintFor('network_unreachable', 'connect', 'net_unreachable'), /routing table/);
  });

  it('dns_error tells no such name from a failing resolver', () => {
    assert.match(hintFor('dns_error', 'resolve', 'no_such_name'), /no such name.*does not exist/);
    assert.match(hintFor('dns_error', 'resolve', 'resolver_failed'), /resolver/);
    assert.doesNotMatch(hintFor('dns_error', 'resolve', 'resolver_failed'), /does not exist/);
    assert.match(hintFor('dns_error', 'resolve', 'no_address'), /no address/);
  });

  it('TLS: plaintext, wrong name, untrusted, not yet valid, and a real handshake failure apart', () => {
    assert.match(hintFor('tls_handshake_failed', 'tls', 'plaintext'), /plaintext.*starttls.*143/);
    assert.equal(hintFor('tls_handshake_failed', 'tls'), REASON_HINTS.tls_handshake_failed);
    assert.match(hintFor('tls_certificate_invalid', 'tls', 'wrong_name'), /another host name.*server_name/);
    assert.match(hintFor('tls_certificate_invalid', 'starttls', 'untrusted'), /not trusted.*ca_file/);
    assert.match(hintFor('tls_certificate_invalid', 'tls', 'not_yet_valid'), /not valid yet/);
    assert.match(hintFor('tls_certificate_expired', 'tls'), /expired.*notAfter/);
  });

  it('auth_failed: the credentials were rejected, with DEBUG_LOGIN to tell which; never "the backend is down"', () => {
    for (const hint of [hintFor('auth_failed', 'login'), hintFor('auth_failed', 'login', 'AUTHENTICATIONFAILED')]) {
      assert.match(hint, /wrong password or unknown login id/);
      assert.match(hint, /DEBUG_LOGIN/);
      assert.doesNotMatch(hint, /down|not running|unavailable|authdaemond/i);
    }
  });

  it('auth_unavailable: authdaemond, the home directory, or uid and gid, by what the server said', () => {
    assert.match(hintFor('auth_unavailable', 'login'), /authdaemond.*home directory, uid or gid/);
    // Courier sends the same BYE for a home directory authlib cannot enter: the hint says so.
    assert.match(hintFor('auth_unavailable', 'login', 'auth_backend'), /authdaemond.*home directory.*syslog/);
    assert.match(hintFor('auth_unavailable', 'login', 'UNAVAILABLE'), /authdaemond/);
    assert.match(hintFor('auth_unavailable', 'select', 'home_directory'), /home directory/);
    const uidGid = hintFor('auth_unavailable', 'login', 'uid_gid');
    assert.match(uidGid, /\buid\b/);
    assert.match(uidGid, /\bgid\b/);
  });

  it('expectation_failed: shared folders, missing folders, too few messages', () => {
    assert.match(hintFor('expectation_failed', 'list', 'shared_folders'), /no virtual shared folders are accessible to this login id.*not set up.*shared with it/);
    assert.match(hintFor('expectation_failed', 'list', 'missing_folders'), /renamed or deleted/);
    assert.match(hintFor('expectation_failed', 'select', 'too_few_messages'), /min_messages/);
  });

  it('every RFC 5530 code has a hint of its own, quoting the code', () => {
    for (const code of RESPONSE_CODES) {
      const hint = hintFor('select_failed', 'select', code);
      assert.notEqual(hint, REASON_HINTS.select_failed, code);
      assert.match(hint, new RegExp(`\\[${code}\\]`), code);
    }
    assert.match(hintFor('auth_failed', 'login', 'PRIVACYREQUIRED'), /encrypted/);
    assert.match(hintFor('auth_failed', 'login', 'EXPIRED'), /expired/);
    assert.match(hintFor('auth_failed', 'login', 'CONTACTADMIN'), /administrator/);
    assert.match(hintFor('auth_failed', 'login', 'LIMIT'), /limit/);
    assert.match(hintFor('auth_failed', 'login', 'INUSE'), /in use by another session/);
    assert.match(hintFor('auth_failed', 'login', 'SERVERBUG'), /bug/);
    assert.equal(responseCodeCause('ALERT'), undefined);
    assert.equal(responseCodeCause(undefined), undefined);
    assert.equal(responseCodeCause('LIMIT'), 'LIMIT');
  });
});

describe('classify: reason and cause from what a stage threw', () => {
  it('* BYE in answer to LOGIN: auth_unavailable, the BYE in the detail, the cause from its words (Courier)', () => {
    const cases: [string, Cause | undefined, RegExp][] = [
      ['* BYE Temporary problem, please try again later', 'auth_backend', /authdaemond/],
      ['* BYE [ALERT] Fatal error: No such file or directory', 'home_directory', /home directory/],
      ['* BYE [ALERT] Fatal error: Permission denied', 'uid_gid', /uid.*gid/],
      ["* BYE [ALERT] Fatal error: Account's mailbox directory is not owned by the correct uid or gid", 'uid_gid', /uid.*gid/],
      ['* BYE Something else entirely', undefined, /authdaemond.*home directory, uid or gid/],
    ];
    for (const [bye, cause, hint] of cases) {
      const d = diagnose(closedUnder({ command: 'LOGIN', bye, firstAfterLogin: false }), 'login');
      assert.equal(d.reason, 'auth_unavailable', bye);
      assert.equal(d.cause, cause, bye);
      assert.equal(d.detail, `the server ended the session in answer to LOGIN: ${bye}`);
      assert.match(d.hint, hint, bye);
    }
  });

  it('a close without BYE during AUTHENTICATE, or a reset: auth_unavailable, said so', () => {
    const plain = diagnose(closedUnder({ command: 'AUTHENTICATE', firstAfterLogin: false }), 'login');
    assert.deepEqual([plain.reason, plain.cause], ['auth_unavailable', undefined]);
    assert.equal(plain.detail, 'the server ended the session in answer to AUTHENTICATE, closing the connection without * BYE');
    const reset = diagnose(closedUnder({ command: 'LOGIN', firstAfterLogin: false }, errno('ECONNRESET')), 'login');
    assert.equal(reset.reason, 'auth_unavailable');
    assert.match(reset.detail, /without \* BYE \(ECONNRESET\)/);
  });

  it('right after a successful login (the first command after it): auth_unavailable in that stage', () => {
    const bye = '* BYE [ALERT] Fatal error: No such file or directory';
    const d = diagnose(closedUnder({ command: 'SELECT', bye, firstAfterLogin: true }), 'select');
    assert.deepEqual([d.reason, d.cause], ['auth_unavailable', 'home_directory']);
    assert.equal(d.detail, `the server accepted the login, then ended the session in answer to SELECT: ${bye}`);
  });

  it('a close later in the session stays connection_closed, with the BYE text kept', () => {
    const d = diagnose(closedUnder({ command: 'LIST', bye: '* BYE Server shutting down.', firstAfterLogin: false }), 'list');
    assert.equal(d.reason, 'connection_closed');
    assert.match(d.detail, /during list: \* BYE Server shutting down\.$/);
    assert.equal(diagnose(new ConnectionClosedError('the server closed the connection'), 'greeting').reason, 'connection_closed');
  });

  it('errno: refused, unreachable, with their causes', () => {
    assert.equal(diagnose(errno('ECONNREFUSED', { address: '127.0.0.1', port: 1 }), 'connect').reason, 'connection_refused');
    const host = diagnose(errno('EHOSTUNREACH'), 'connect');
    assert.deepEqual([host.reason, host.cause], ['network_unreachable', undefined]);
    assert.match(host.hint, /REJECT/);
    const net = diagnose(errno('ENETUNREACH'), 'connect');
    assert.deepEqual([net.reason, net.cause], ['network_unreachable', 'net_unreachable']);
  });

  it('resolve: no such name versus a resolver failure, whatever errno the resolver uses', () => {
    const cases: [string, Cause][] = [
      ['ENOTFOUND', 'no_such_name'],
      ['EAI_NONAME', 'no_such_name'],
      ['ENODATA', 'no_address'],
      ['EAI_AGAIN', 'resolver_failed'],
      ['ESERVFAIL', 'resolver_failed'],
      ['ECONNREFUSED', 'resolver_failed'],
    ];
    for (const [code, cause] of cases) {
      const d = diagnose(errno(code, { hostname: 'imap.example.com' }), 'resolve');
      assert.deepEqual([d.reason, d.cause, d.detail], ['dns_error', cause, `${code}: imap.example.com`], code);
    }
    assert.match(diagnose(errno('ENOTFOUND'), 'resolve').hint, /no such name/);
    assert.match(diagnose(errno('EAI_AGAIN'), 'resolve').hint, /resolver/);
  });

  it('the deadline: timeout with the hint of the stage; an abort says so', async () => {
    const expired = new Deadline(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const d = diagnose(new Error('whatever broke'), 'greeting', expired);
    assert.equal(d.reason, 'timeout');
    assert.match(d.hint, /implicit-TLS/);
    expired.clear();
    const aborted = new Deadline(60_000, AbortSignal.abort());
    const a = diagnose(new Error('cut off'), 'login', aborted);
    assert.deepEqual([a.reason, a.cause], ['timeout', 'aborted']);
    aborted.clear();
  });

  it('a ProbeError keeps its reason, detail and cause', () => {
    const d = diagnose(new ProbeError('tls_handshake_failed', 'the server answered in plaintext', { hintCause: 'plaintext' }), 'tls');
    assert.deepEqual([d.reason, d.cause, d.detail], ['tls_handshake_failed', 'plaintext', 'the server answered in plaintext']);
  });
});
