/**
 * One table of hints by reason, phase and cause: the same reason means different
 * things at different stages (a timeout at resolve blames the resolver, at greeting a
 * service that waits for the client), and a cause seen by classify.ts (an errno, the
 * text class of a `* BYE`, an RFC 5530 response code) narrows it further.
 *
 *   hintFor(reason, phase, cause)
 *
 * looks up, most specific first: (reason, phase, cause), (reason, any phase, cause),
 * (any reason, cause) for response codes that mean the same wherever they come,
 * (reason, phase), and last the reason's general hint (reasons.ts, also in the alert rules).
 */
import { REASON_HINTS, type Reason } from './reasons.js';
import type { Stage } from './stages.js';

/** RFC 5530 response codes (and RFC 3501's ALERT is not one: it only carries words for a human). */
export const RESPONSE_CODES = [
  'UNAVAILABLE',
  'AUTHENTICATIONFAILED',
  'AUTHORIZATIONFAILED',
  'EXPIRED',
  'PRIVACYREQUIRED',
  'CONTACTADMIN',
  'NOPERM',
  'INUSE',
  'EXPUNGEISSUED',
  'CORRUPTION',
  'SERVERBUG',
  'CLIENTBUG',
  'CANNOT',
  'LIMIT',
  'OVERQUOTA',
  'ALREADYEXISTS',
  'NONEXISTENT',
] as const;
export type ResponseCodeCause = (typeof RESPONSE_CODES)[number];

/** What classify.ts can tell about a failure beyond its reason: a small closed set. */
export type Cause =
  // dns_error
  | 'no_such_name'
  | 'no_address'
  | 'resolver_failed'
  // network_unreachable
  | 'net_unreachable'
  // timeout
  | 'aborted'
  // TLS
  | 'plaintext'
  | 'wrong_name'
  | 'untrusted'
  | 'not_yet_valid'
  // auth_unavailable: the class of the server's * BYE text
  | 'auth_backend'
  | 'home_directory'
  | 'uid_gid'
  // expectation_failed
  | 'too_few_messages'
  | 'shared_folders'
  | 'missing_folders'
  | ResponseCodeCause;

/** The RFC 5530 code a server put in its answer, as a cause; undefined for none or another code. */
export function responseCodeCause(name: string | undefined): ResponseCodeCause | undefined {
  return (RESPONSE_CODES as readonly (string | undefined)[]).includes(name) ? (name as ResponseCodeCause) : undefined;
}

interface HintRow {
  reason?: Reason;
  phase?: Stage;
  cause?: Cause;
  hint: string;
}

const AUTH_LOG =
  "the server's auth log tells which (Courier: DEBUG_LOGIN=1 in authdaemonrc, then syslog; Dovecot: auth_verbose = yes)";

const ROWS: readonly HintRow[] = [
  // dns_error: no such name versus a resolver that failed.
  { reason: 'dns_error', cause: 'no_such_name', hint: 'no such name: the host name does not exist in DNS (NXDOMAIN); check `host` for a typo' },
  { reason: 'dns_error', cause: 'no_address', hint: 'the name exists in DNS but has no address (A/AAAA) record' },
  {
    reason: 'dns_error',
    cause: 'resolver_failed',
    hint: "the DNS resolver failed (EAI_AGAIN/SERVFAIL): the exporter's resolver is unreachable or broken, or the zone's name servers do not answer; the name itself may be fine",
  },

  // timeout, by the stage that waited.
  { reason: 'timeout', cause: 'aborted', hint: 'the exporter was shutting down and cut the probe off; not a server problem' },
  {
    reason: 'timeout',
    phase: 'resolve',
    hint: "the DNS resolver did not answer in time: a hung or unreachable resolver (see /etc/resolv.conf), or a firewall dropping DNS",
  },
  {
    reason: 'timeout',
    phase: 'connect',
    hint: 'the TCP connect got no answer: a firewall dropping packets (DROP) on the way or at the server, or the host is down',
  },
  { reason: 'timeout', phase: 'tls', hint: 'the TLS handshake got no answer: a firewall or proxy holding the connection, or a hung server' },
  {
    reason: 'timeout',
    phase: 'greeting',
    hint:
      'connected, but no IMAP greeting: the service on the port waits for the client to speak first (HTTP, for one), ' +
      'or it is an implicit-TLS port (993) probed in plain (use tls: tls); else a hung server',
  },
  { reason: 'timeout', phase: 'starttls', hint: 'no answer to STARTTLS or during its handshake: a hung server, or a middlebox in the way' },
  {
    reason: 'timeout',
    phase: 'login',
    hint:
      "no answer to LOGIN in time: servers answer a failed login only after a failure delay (Dovecot about 2 s, Courier about 5 s), " +
      "so a wrong password under a shorter timeout looks like this; raise timeout above the failure delay, or the auth backend is slow",
  },
  { reason: 'timeout', phase: 'select', hint: 'no answer to SELECT in time: a large mailbox being indexed, or slow storage' },
  { reason: 'timeout', phase: 'list', hint: 'no answer to LIST in time: very many folders, or slow storage' },
  { reason: 'timeout', phase: 'logout', hint: 'no answer to LOGOUT in time: a hung server' },

  { reason: 'network_unreachable', cause: 'net_unreachable', hint: "no route to that network from the exporter: check its routing table and default gateway (or IPv6 without a route)" },

  // TLS: plaintext on a TLS port, wrong name, untrusted.
  {
    reason: 'tls_handshake_failed',
    cause: 'plaintext',
    hint: 'the server answered in plaintext, not TLS: this port speaks IMAP without TLS; use tls: starttls (port 143), or the implicit-TLS port 993',
  },
  {
    reason: 'tls_certificate_invalid',
    cause: 'wrong_name',
    hint: 'the certificate is for another host name (the names it is valid for are in the detail): connect by one of them, or set tls_config.server_name',
  },
  {
    reason: 'tls_certificate_invalid',
    cause: 'untrusted',
    hint: 'the certificate chain is not trusted: self-signed or from a private CA (set tls_config.ca_file to that CA), or the server does not send its intermediate certificates',
  },
  { reason: 'tls_certificate_invalid', cause: 'not_yet_valid', hint: 'the certificate is not valid yet: check the clocks of the server and of the exporter' },

  // auth_failed: the credentials were rejected, never "the backend is down".
  {
    reason: 'auth_failed',
    cause: 'AUTHENTICATIONFAILED',
    hint: `the credentials were rejected ([AUTHENTICATIONFAILED]): wrong password or unknown login id; ${AUTH_LOG}`,
  },

  // auth_unavailable: the class of what the server said.
  {
    reason: 'auth_unavailable',
    cause: 'auth_backend',
    hint:
      "the server could not reach its authentication backend: Courier's authdaemond (courier-authlib) is not running or its socket is unreachable; " +
      "Courier says the same words when authlib cannot enter the account's home directory (missing, or not enterable by its uid): " +
      "its syslog tells which (authentication error: Connection refused, or chdir(...) failed); on Dovecot the auth process or its passdb (LDAP, SQL)",
  },
  {
    reason: 'auth_unavailable',
    cause: 'UNAVAILABLE',
    hint:
      "the server says its authentication backend is unavailable ([UNAVAILABLE]): Courier's authdaemond, Dovecot's auth process or its passdb (LDAP, SQL) " +
      'is down or overloaded; its syslog says which',
  },
  {
    reason: 'auth_unavailable',
    cause: 'home_directory',
    hint:
      "the password was accepted but the account could not be opened: its home directory or Maildir does not exist (No such file or directory); " +
      'compare the home directory in the account record (Courier: authtest LOGIN) with the file system',
  },
  {
    reason: 'auth_unavailable',
    cause: 'uid_gid',
    hint:
      "the account's mailbox cannot be opened as its uid and gid: the uid/gid in the account record do not own the home directory and Maildir " +
      '(Permission denied, or not owned by the correct uid or gid); compare authtest LOGIN with ls -ln of the Maildir',
  },

  // expectation_failed: what was expected.
  {
    reason: 'expectation_failed',
    cause: 'too_few_messages',
    hint:
      'the mailbox has fewer messages than min_messages: it was emptied, or the server cannot read it ' +
      '(Courier shows 0 EXISTS when cur/ or new/ belongs to another uid)',
  },
  {
    reason: 'expectation_failed',
    cause: 'shared_folders',
    hint:
      'no virtual shared folders are accessible to this login id: shared folders are not set up ' +
      '(Courier: maildirshared and the shared index; Dovecot: a shared namespace), or nothing is shared with it (ACLs)',
  },
  {
    reason: 'expectation_failed',
    cause: 'missing_folders',
    hint: 'LIST answered OK without folders this probe expects: they were renamed or deleted, or this login id may not see them (ACLs, subscriptions)',
  },

  // RFC 5530 response codes: the same meaning after LOGIN, SELECT or LIST.
  { cause: 'UNAVAILABLE', hint: 'a subsystem the server needs is temporarily down ([UNAVAILABLE]); its log says which' },
  { cause: 'AUTHENTICATIONFAILED', hint: 'the server says authentication failed ([AUTHENTICATIONFAILED])' },
  { cause: 'AUTHORIZATIONFAILED', hint: 'authenticated, but not allowed to act as the requested identity ([AUTHORIZATIONFAILED])' },
  { cause: 'EXPIRED', hint: "the account's password or credentials expired ([EXPIRED]): renew them" },
  { cause: 'PRIVACYREQUIRED', hint: 'the server refuses this without an encrypted connection ([PRIVACYREQUIRED]): use tls: starttls or tls: tls' },
  { cause: 'CONTACTADMIN', hint: 'the server asks the account holder to contact its administrators ([CONTACTADMIN]): the account is disabled or locked' },
  { cause: 'NOPERM', hint: "the server's access control does not allow this login id that ([NOPERM]): check the ACLs" },
  { cause: 'INUSE', hint: 'the account or mailbox is in use by another session ([INUSE]), e.g. a lock held elsewhere; try again later' },
  { cause: 'EXPUNGEISSUED', hint: 'another session expunged messages meanwhile ([EXPUNGEISSUED])' },
  { cause: 'CORRUPTION', hint: 'the server found the mailbox data corrupt ([CORRUPTION]): its log says which files' },
  { cause: 'SERVERBUG', hint: 'the server hit a bug of its own ([SERVERBUG]): its log says more; not a problem of the credentials' },
  { cause: 'CLIENTBUG', hint: 'the server thinks the exporter sent something wrong ([CLIENTBUG]): the transcript shows what' },
  { cause: 'CANNOT', hint: 'the server can never do this ([CANNOT]), e.g. a mailbox name it does not allow' },
  {
    cause: 'LIMIT',
    hint: 'a server limit was hit ([LIMIT]), e.g. too many connections for this login id or address (Dovecot: mail_max_userip_connections)',
  },
  { cause: 'OVERQUOTA', hint: 'the account is over its quota ([OVERQUOTA])' },
  { cause: 'ALREADYEXISTS', hint: 'the object already exists ([ALREADYEXISTS])' },
  { cause: 'NONEXISTENT', hint: 'the mailbox does not exist ([NONEXISTENT]): check `mailbox` (Courier names folders INBOX.Name)' },
];

const table = new Map<string, string>();
for (const row of ROWS) {
  const key = keyOf(row.reason, row.phase, row.cause);
  if (table.has(key)) throw new Error(`hints: two rows for ${key}`);
  table.set(key, row.hint);
}

function keyOf(reason: Reason | undefined, phase: Stage | undefined, cause: Cause | undefined): string {
  return `${reason ?? '*'}|${phase ?? '*'}|${cause ?? '*'}`;
}

/** The hint for a failure: the most specific row of the table, else the reason's general hint. */
export function hintFor(reason: Reason, phase?: Stage, cause?: Cause): string {
  const candidates: [Reason | undefined, Stage | undefined, Cause | undefined][] = [];
  if (cause !== undefined) {
    if (phase !== undefined) candidates.push([reason, phase, cause]);
    candidates.push([reason, undefined, cause], [undefined, undefined, cause]);
  }
  if (phase !== undefined) candidates.push([reason, phase, undefined]);
  candidates.push([reason, undefined, undefined]);
  for (const [r, p, c] of candidates) {
    const hint = table.get(keyOf(r, p, c));
    if (hint !== undefined) return hint;
  }
  return REASON_HINTS[reason];
}
