/**
 * The closed vocabulary of failure reasons, each with its general hint: what an
 * administrator would conclude by hand with telnet/openssl against port 143/993.
 * The alert rules carry these same texts (a test checks it); a failed probe gets the
 * hint for its phase and cause from hints.ts, which falls back to these.
 */
export const REASON_HINTS = {
  dns_error: 'the host name does not resolve',
  connection_refused: 'nothing listens on the port: server not running, or wrong port; or a firewall REJECT (tcp-reset)',
  timeout: 'no answer in time: a firewall dropping packets, or a hung server',
  network_unreachable: 'no route to host: a routing problem, the host is down, or a firewall REJECT (host-prohibited, firewalld\'s default)',
  connection_closed: 'the server closed the connection mid-dialogue',
  tls_handshake_failed: 'TLS could not be negotiated (protocol/cipher mismatch, not TLS)',
  tls_certificate_invalid: 'certificate not trusted or wrong host name',
  tls_certificate_expired: 'certificate expired (the detail has its notAfter date)',
  greeting_invalid: 'the peer does not speak IMAP (wrong service on the port?)',
  greeting_bye: 'server refused the session (* BYE): overloaded or blocked',
  starttls_unsupported: 'STARTTLS not advertised',
  starttls_rejected: 'STARTTLS answered NO/BAD',
  login_disabled: 'server advertises LOGINDISABLED: it only accepts logins over TLS',
  plaintext_refused:
    'the exporter refused to send a password over an unencrypted connection (set allow_plaintext_auth to override)',
  auth_mechanism_unsupported: 'the configured AUTH mechanism is not advertised',
  auth_failed:
    'NO to LOGIN/AUTHENTICATE: the credentials were rejected (wrong password or unknown login id; the server\'s auth log tells which, e.g. Courier\'s DEBUG_LOGIN)',
  auth_unavailable:
    'the server could not check the password or open the account: NO [UNAVAILABLE], or * BYE/close during or right after LOGIN; the auth backend is down (Courier: authdaemond), or the account\'s home directory, uid or gid is wrong; the server\'s words are in the detail',
  expectation_failed:
    'the server answered OK but not what the probe expects: e.g. a LIST of #shared.* without folders (no virtual shared folder is visible to this login id), or fewer messages than min_messages',
  select_failed:
    'NO to SELECT: mailbox missing or corrupt, or its owner uid/gid does not match the account',
  list_failed: 'NO/BAD to LIST',
  protocol_error: 'BAD, an unparseable or oversized response',
  credentials_unavailable: 'the password file/env var could not be read',
} as const;

export type Reason = keyof typeof REASON_HINTS;
