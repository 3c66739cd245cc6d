/**
 * `minimalImap`, a small well-behaved IMAP server script for the fake server: greeting,
 * CAPABILITY, STARTTLS, LOGIN, AUTHENTICATE PLAIN/CRAM-MD5, SELECT/EXAMINE, LIST, LOGOUT,
 * each answer configurable, and any command replaceable through `overrides`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FakeConnection, FakeHandler, TlsCredentials } from './fake-imap-server.js';

export interface ImapCommand {
  tag: string;
  /** Upper-cased. */
  name: string;
  /** Atoms, unquoted strings and literal payloads; a parenthesised list stays one raw token. */
  args: string[];
}

export interface SessionState {
  tls: boolean;
  user?: string;
  selected?: string;
  /** What CAPABILITY would answer right now (changes after STARTTLS). */
  capabilities: string[];
}

export type CommandHandler = (conn: FakeConnection, command: ImapCommand, session: SessionState) => void | Promise<void>;

/** A tagged NO or BAD with this text instead of the normal answer. */
export type Refusal = { no: string } | { bad: string };

export interface SelectReply {
  exists: number;
  recent?: number;
  uidValidity?: number;
  uidNext?: number;
  readOnly?: boolean;
}

export interface MinimalImapOptions {
  /** Greeting text after the response code; default 'Fake IMAP ready.'. */
  greeting?: string;
  /** Put `[CAPABILITY …]` in the greeting; default true. */
  greetingCapability?: boolean;
  /** Before TLS. Default IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=CRAM-MD5, plus STARTTLS when `tls` is set. */
  capabilities?: string[];
  /** After STARTTLS. Default: `capabilities` without STARTTLS and LOGINDISABLED. */
  capabilitiesAfterTls?: string[];
  /** When set, sent as `[CAPABILITY …]` in the OK to LOGIN/AUTHENTICATE. */
  capabilitiesAfterLogin?: string[];
  /** Certificate for STARTTLS; without it STARTTLS answers BAD. */
  tls?: TlsCredentials;
  /** Answer STARTTLS with this instead of upgrading. */
  starttlsReply?: Refusal;
  /** username → password. Default { alice: 'secret' }. */
  users?: Record<string, string>;
  /** Mailbox name (INBOX matched case-insensitively) → SELECT answer. Default INBOX: 3 EXISTS, 0 RECENT, UIDVALIDITY 1. */
  mailboxes?: Record<string, SelectReply | Refusal>;
  /**
   * LIST pattern (as the client sent it, reference ignored) → the untagged lines to send,
   * e.g. `* LIST (\HasNoChildren) "." "INBOX.Drafts"`. An unknown pattern lists nothing.
   */
  list?: Record<string, string[] | Refusal>;
  /** Command name (upper case) → our own answer, replacing the built-in one. */
  overrides?: Record<string, CommandHandler>;
}

const DEFAULT_USERS: Record<string, string> = { alice: 'secret' };
const DEFAULT_MAILBOXES: Record<string, SelectReply> = { INBOX: { exists: 3, recent: 0, uidValidity: 1, uidNext: 4 } };
const DEFAULT_LIST: Record<string, string[]> = { '*': ['* LIST (\\HasNoChildren) "." INBOX'] };
/** Client literals we accept; anything larger is a broken client or test. */
const MAX_CLIENT_LITERAL = 1 << 20;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ') {
      i++;
    } else if (text[i] === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== '"'; i++) value += (text[i] === '\\' ? text[++i] : text[i]) ?? '';
      tokens.push(value);
      i++;
    } else if (text[i] === '(') {
      let depth = 0;
      const start = i;
      do {
        if (text[i] === '(') depth++;
        if (text[i] === ')') depth--;
        i++;
      } while (i < text.length && depth > 0);
      tokens.push(text.slice(start, i));
    } else {
      const start = i;
      while (i < text.length && text[i] !== ' ') i++;
      tokens.push(text.slice(start, i));
    }
  }
  return tokens;
}

/** One command, following `{n}` (answered with a continuation) and `{n+}` literals. */
export async function readCommand(conn: FakeConnection): Promise<ImapCommand> {
  const tokens: string[] = [];
  for (let line = await conn.readLine(); ; line = await conn.readLine()) {
    const literal = /\{(\d+)(\+?)\}$/.exec(line);
    tokens.push(...tokenize(literal ? line.slice(0, literal.index) : line));
    if (!literal) break;
    const size = Number(literal[1]);
    if (size > MAX_CLIENT_LITERAL) throw new Error(`client literal of ${size} bytes`);
    if (literal[2] !== '+') conn.write('+ Ready for literal data\r\n');
    tokens.push((await conn.readBytes(size)).toString('utf8'));
  }
  const [tag = '', name = '', ...args] = tokens;
  return { tag, name: name.toUpperCase(), args };
}

export function replyOk(conn: FakeConnection, tag: string, text: string): void {
  conn.write(`${tag} OK ${text}\r\n`);
}

export function replyRefusal(conn: FakeConnection, tag: string, refusal: Refusal): void {
  conn.write('no' in refusal ? `${tag} NO ${refusal.no}\r\n` : `${tag} BAD ${refusal.bad}\r\n`);
}

function isRefusal(value: object): value is Refusal {
  return 'no' in value || 'bad' in value;
}

function loggedIn(conn: FakeConnection, tag: string, session: SessionState, user: string, options: MinimalImapOptions): void {
  session.user = user;
  const code = options.capabilitiesAfterLogin ? `[CAPABILITY ${options.capabilitiesAfterLogin.join(' ')}] ` : '';
  replyOk(conn, tag, `${code}Logged in`);
}

function authFailed(conn: FakeConnection, tag: string): void {
  conn.write(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`);
}

/** The SASL response: the initial response if sent (`=` is empty), else after a `+` continuation. */
async function saslResponse(conn: FakeConnection, initial: string | undefined, challenge = ''): Promise<string | undefined> {
  if (initial !== undefined) return initial === '=' ? '' : initial;
  conn.write(`+ ${challenge}\r\n`);
  const line = await conn.readLine();
  return line === '*' ? undefined : line;
}

async function authenticate(conn: FakeConnection, cmd: ImapCommand, session: SessionState, options: MinimalImapOptions): Promise<void> {
  const users = options.users ?? DEFAULT_USERS;
  const mechanism = (cmd.args[0] ?? '').toUpperCase();
  const initial = cmd.args[1];
  if (!session.capabilities.includes(`AUTH=${mechanism}`)) {
    return conn.write(`${cmd.tag} NO Unsupported authentication mechanism.\r\n`);
  }
  if (initial !== undefined && !session.capabilities.includes('SASL-IR')) {
    return replyRefusal(conn, cmd.tag, { bad: 'Initial response not allowed without SASL-IR.' });
  }
  if (mechanism === 'PLAIN') {
    const response = await saslResponse(conn, initial);
    if (response === undefined) return replyRefusal(conn, cmd.tag, { bad: 'Authentication aborted by client.' });
    const [, user = '', password] = Buffer.from(response, 'base64').toString('utf8').split('\0');
    return users[user] !== undefined && users[user] === password ? loggedIn(conn, cmd.tag, session, user, options) : authFailed(conn, cmd.tag);
  }
  if (mechanism === 'CRAM-MD5') {
    const challenge = `<${randomBytes(8).toString('hex')}.${Date.now()}@fake-imap>`;
    const response = await saslResponse(conn, undefined, Buffer.from(challenge).toString('base64'));
    if (response === undefined) return replyRefusal(conn, cmd.tag, { bad: 'Authentication aborted by client.' });
    const [user = '', digest] = Buffer.from(response, 'base64').toString('utf8').split(' ');
    const password = users[user];
    const expected = password === undefined ? undefined : createHmac('md5', password).update(challenge).digest('hex');
    return expected !== undefined && digest === expected ? loggedIn(conn, cmd.tag, session, user, options) : authFailed(conn, cmd.tag);
  }
  conn.write(`${cmd.tag} NO Unsupported authentication mechanism.\r\n`);
}

function select(conn: FakeConnection, cmd: ImapCommand, session: SessionState, options: MinimalImapOptions): void {
  const name = cmd.args[0] ?? '';
  const mailboxes = options.mailboxes ?? DEFAULT_MAILBOXES;
  const key = name.toUpperCase() === 'INBOX' ? Object.keys(mailboxes).find((k) => k.toUpperCase() === 'INBOX') : name;
  const reply = key === undefined ? undefined : mailboxes[key];
  if (reply === undefined) return conn.write(`${cmd.tag} NO Mailbox doesn't exist: ${name}\r\n`);
  if (isRefusal(reply)) return replyRefusal(conn, cmd.tag, reply);
  session.selected = name;
  conn.write('* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n');
  conn.write(`* ${reply.exists} EXISTS\r\n* ${reply.recent ?? 0} RECENT\r\n`);
  if (reply.uidValidity !== undefined) conn.write(`* OK [UIDVALIDITY ${reply.uidValidity}] UIDs valid\r\n`);
  if (reply.uidNext !== undefined) conn.write(`* OK [UIDNEXT ${reply.uidNext}] Predicted next UID\r\n`);
  const readOnly = reply.readOnly === true || cmd.name === 'EXAMINE';
  replyOk(conn, cmd.tag, `[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${cmd.name} completed.`);
}

function list(conn: FakeConnection, cmd: ImapCommand, options: MinimalImapOptions): void {
  const answer = (options.list ?? DEFAULT_LIST)[cmd.args[1] ?? ''] ?? [];
  if (!Array.isArray(answer)) return replyRefusal(conn, cmd.tag, answer);
  for (const line of answer) conn.write(`${line}\r\n`);
  replyOk(conn, cmd.tag, 'List completed.');
}

async function starttls(conn: FakeConnection, cmd: ImapCommand, session: SessionState, options: MinimalImapOptions): Promise<void> {
  if (options.starttlsReply) return replyRefusal(conn, cmd.tag, options.starttlsReply);
  if (session.tls || !options.tls || !session.capabilities.includes('STARTTLS')) {
    return replyRefusal(conn, cmd.tag, { bad: 'STARTTLS not available.' });
  }
  replyOk(conn, cmd.tag, 'Begin TLS negotiation now.');
  await conn.upgradeToTls(options.tls);
  session.tls = true;
  session.capabilities = options.capabilitiesAfterTls ?? session.capabilities.filter((c) => c !== 'STARTTLS' && c !== 'LOGINDISABLED');
}

/** Answers one command; returns false once the session is over (LOGOUT). */
async function answer(conn: FakeConnection, cmd: ImapCommand, session: SessionState, options: MinimalImapOptions): Promise<boolean> {
  const authenticated = session.user !== undefined;
  switch (cmd.name) {
    case 'CAPABILITY':
      conn.write(`* CAPABILITY ${session.capabilities.join(' ')}\r\n`);
      replyOk(conn, cmd.tag, 'Capability completed.');
      break;
    case 'NOOP':
      replyOk(conn, cmd.tag, 'NOOP completed.');
      break;
    case 'STARTTLS':
      await starttls(conn, cmd, session, options);
      break;
    case 'LOGIN': {
      const [user = '', password] = cmd.args;
      const users = options.users ?? DEFAULT_USERS;
      if (authenticated) replyRefusal(conn, cmd.tag, { bad: 'Already logged in.' });
      else if (session.capabilities.includes('LOGINDISABLED')) {
        conn.write(`${cmd.tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n`);
      } else if (users[user] !== undefined && users[user] === password) loggedIn(conn, cmd.tag, session, user, options);
      else authFailed(conn, cmd.tag);
      break;
    }
    case 'AUTHENTICATE':
      if (authenticated) replyRefusal(conn, cmd.tag, { bad: 'Already logged in.' });
      else await authenticate(conn, cmd, session, options);
      break;
    case 'SELECT':
    case 'EXAMINE':
      if (authenticated) select(conn, cmd, session, options);
      else replyRefusal(conn, cmd.tag, { bad: 'Not logged in.' });
      break;
    case 'LIST':
      if (authenticated) list(conn, cmd, options);
      else replyRefusal(conn, cmd.tag, { bad: 'Not logged in.' });
      break;
    case 'LOGOUT':
      conn.write(`* BYE Logging out\r\n${cmd.tag} OK Logout completed.\r\n`);
      return false;
    default:
      replyRefusal(conn, cmd.tag, { bad: `Unknown command ${cmd.name}` });
  }
  return true;
}

export function defaultCapabilities(options: MinimalImapOptions): string[] {
  return options.capabilities ?? ['IMAP4rev1', 'SASL-IR', 'AUTH=PLAIN', 'AUTH=CRAM-MD5', ...(options.tls ? ['STARTTLS'] : [])];
}

/** A small well-behaved IMAP server; every line it read is in `conn.received`. */
export function minimalImap(options: MinimalImapOptions = {}): FakeHandler {
  return async (conn) => {
    const session: SessionState = { tls: conn.isTls, capabilities: defaultCapabilities(options) };
    const code = options.greetingCapability === false ? '' : `[CAPABILITY ${session.capabilities.join(' ')}] `;
    conn.write(`* OK ${code}${options.greeting ?? 'Fake IMAP ready.'}\r\n`);
    for (;;) {
      const cmd = await readCommand(conn);
      const override = options.overrides?.[cmd.name];
      if (override) await override(conn, cmd, session);
      else if (!(await answer(conn, cmd, session, options))) return;
      if (conn.isClosed) return;
    }
  };
}
