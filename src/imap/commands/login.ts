import { createHmac } from 'node:crypto';
import { isQuotable, quote } from '../quote.js';
import type { CommandOptions, CommandResult, ImapSession } from '../session.js';

/** How the probe authenticates: LOGIN, or AUTHENTICATE with one SASL mechanism. */
export type AuthMechanism = 'login' | 'plain' | 'cram-md5' | 'xoauth2';

const REDACTED = '***';

export interface Credentials {
  username: string;
  password: string;
}

export interface AuthOptions {
  mechanism: AuthMechanism;
  /** Server advertised SASL-IR: the initial response may ride on the command line. */
  saslIr: boolean;
  /** Server advertised LITERAL+ (or LITERAL-): a non-quotable value needs no round trip. */
  literalPlus: boolean;
  /** Told each secret computed during the exchange (CRAM-MD5's response) before it is sent. */
  onSecret?: (secret: string) => void;
}

/**
 * Every secret this module may send for these credentials that can be known before the
 * connection opens (CRAM-MD5's response depends on the challenge: see onSecret).
 */
export function clientSecrets(creds: Credentials): string[] {
  return [creds.password, plainPayload(creds), xoauth2Payload(creds)];
}

/**
 * Any CRAM-MD5 response of this user, by its shape (`user <32 hex>`, and its base64, whose
 * start is fixed by the user name): a hostile server may replay an old one in a greeting,
 * before this probe could compute it.
 */
export function cramResponsePatterns(username: string): RegExp[] {
  const prefix = Buffer.from(`${username} `, 'utf8');
  const fixed = prefix.subarray(0, prefix.length - (prefix.length % 3)).toString('base64');
  return [new RegExp(`${escapeRegExp(username)} [0-9a-f]{32}`, 'g'), new RegExp(`${escapeRegExp(fixed)}[A-Za-z0-9+/]{40,}={0,2}`, 'g')];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * LOGIN or AUTHENTICATE with the chosen mechanism. Every line that carries the
 * password or a SASL payload is recorded as `***`.
 */
export function authenticate(session: ImapSession, creds: Credentials, options: AuthOptions): Promise<CommandResult> {
  switch (options.mechanism) {
    case 'login':
      return login(session, creds, options.literalPlus);
    case 'plain':
      return saslWithInitialResponse(session, 'PLAIN', plainPayload(creds), options.saslIr);
    case 'xoauth2':
      return saslWithInitialResponse(session, 'XOAUTH2', xoauth2Payload(creds), options.saslIr);
    case 'cram-md5':
      return session.command('AUTHENTICATE CRAM-MD5', {
        onContinuation: (challenge) => {
          const { response, digest } = cramMd5Response(creds, challenge);
          options.onSecret?.(digest);
          options.onSecret?.(response);
          return { line: response, redactedAs: REDACTED };
        },
      });
  }
}

function login(session: ImapSession, creds: Credentials, literalPlus: boolean): Promise<CommandResult> {
  const user = isQuotable(creds.username) ? quote(creds.username) : '{literal}';
  const redactedAs = `LOGIN ${user} ${REDACTED}`;
  // Each segment is sent once the server invites it; values that cannot be quoted
  // (non-ASCII, control characters) go as literals, inline with LITERAL+.
  const segments: string[] = [];
  let current = 'LOGIN';
  for (const value of [creds.username, creds.password]) {
    if (isQuotable(value)) {
      current += ` ${quote(value)}`;
    } else if (literalPlus) {
      current += ` {${Buffer.byteLength(value)}+}\r\n${value}`;
    } else {
      segments.push(`${current} {${Buffer.byteLength(value)}}`);
      current = value;
    }
  }
  segments.push(current);
  const [first, ...rest] = segments as [string, ...string[]];
  const options: CommandOptions = { redactedAs };
  if (rest.length > 0) options.onContinuation = () => ({ line: rest.shift() ?? '', redactedAs: REDACTED });
  return session.command(first, options);
}

function saslWithInitialResponse(
  session: ImapSession,
  mechanism: string,
  payload: string,
  saslIr: boolean,
): Promise<CommandResult> {
  // After the payload, a second `+` carries an error (XOAUTH2 sends JSON): answer it with an empty line.
  let sent = saslIr;
  const onContinuation = () => {
    if (sent) return { line: '' };
    sent = true;
    return { line: payload, redactedAs: REDACTED };
  };
  const text = saslIr ? `AUTHENTICATE ${mechanism} ${payload}` : `AUTHENTICATE ${mechanism}`;
  return session.command(text, { redactedAs: saslIr ? `AUTHENTICATE ${mechanism} ${REDACTED}` : text, onContinuation });
}

export function plainPayload(creds: Credentials): string {
  return Buffer.from(`\0${creds.username}\0${creds.password}`, 'utf8').toString('base64');
}

function xoauth2Payload(creds: Credentials): string {
  return Buffer.from(`user=${creds.username}\x01auth=Bearer ${creds.password}\x01\x01`, 'utf8').toString('base64');
}

function cramMd5Response(creds: Credentials, challengeBase64: string): { response: string; digest: string } {
  const challenge = Buffer.from(challengeBase64.trim(), 'base64');
  const digest = createHmac('md5', creds.password).update(challenge).digest('hex');
  return { response: Buffer.from(`${creds.username} ${digest}`, 'utf8').toString('base64'), digest };
}
