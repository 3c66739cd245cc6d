/**
 * The closed vocabulary of failure reasons (CONTRACT §2), each with the hint an
 * administrator would reach by hand with telnet/openssl against port 143/993.
 */
export const REASON_HINTS = {
  dns_error: 'the host name does not resolve',
  connection_refused: 'nothing listens on the port: server not running, or wrong port',
  timeout: 'no answer in time: a firewall dropping packets, or a hung server',
  network_unreachable: 'no route to host',
  connection_closed: 'the server closed the connection mid-dialogue',
  tls_handshake_failed: 'TLS could not be negotiated (protocol/cipher mismatch, not TLS)',
  tls_certificate_invalid: 'certificate not trusted or wrong host name',
  tls_certificate_expired: 'certificate expired',
  greeting_invalid: 'the peer does not speak IMAP (wrong service on the port?)',
  greeting_bye: 'server refused the session (* BYE): overloaded or blocked',
  starttls_unsupported: 'STARTTLS not advertised',
  starttls_rejected: 'STARTTLS answered NO/BAD',
  login_disabled: 'server advertises LOGINDISABLED: it only accepts logins over TLS',
  plaintext_refused:
    'the exporter refused to send a password over an unencrypted connection (set allow_plaintext_auth to override)',
  auth_mechanism_unsupported: 'the configured AUTH mechanism is not advertised',
  auth_failed:
    'NO to LOGIN/AUTHENTICATE: wrong password, unknown login id, or the auth backend (e.g. courier-authlib) is down; check the server\'s syslog',
  select_failed:
    'NO to SELECT: mailbox missing or corrupt, or its owner uid/gid does not match the account',
  list_failed: 'NO/BAD to LIST',
  protocol_error: 'BAD, an unparseable or oversized response',
  credentials_unavailable: 'the password file/env var could not be read',
} as const;

export type Reason = keyof typeof REASON_HINTS;

export function hintFor(reason: Reason): string {
  return REASON_HINTS[reason];
}
