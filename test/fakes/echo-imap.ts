/**
 * `echoImap`, a hostile IMAP server for the redaction tests: it sends every line the client
 * wrote back in one chosen place — the greeting (lines of earlier connections, plus any
 * `greetingText`), untagged responses, the tagged NO, a BYE, or continuation requests — so
 * a test can grep every output for every secret the client sent.
 */
import type { FakeConnection, FakeHandler } from './fake-imap-server.js';

export const ECHO_PLACES = ['greeting', 'untagged', 'no', 'bye', 'continuation'] as const;
export type EchoPlace = (typeof ECHO_PLACES)[number];

/** The CRAM-MD5 challenge it always sends, so a test can compute the response in advance. */
export const ECHO_CRAM_CHALLENGE = '<1896.697170952@echo-imap>';

const CAPABILITIES = 'IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=CRAM-MD5 AUTH=XOAUTH2';

export interface EchoImapOptions {
  place: EchoPlace;
  /** Extra words for the greeting's [ALERT] (place `greeting`): e.g. the password itself. */
  greetingText?: string;
}

export interface EchoImap {
  handler: FakeHandler;
  /** Every value the client sent in a login exchange: LOGIN's password, SASL responses. */
  readonly loginValues: string[];
}

export function echoImap(options: EchoImapOptions): EchoImap {
  const history: string[] = [];
  const loginValues: string[] = [];
  const handler: FakeHandler = async (conn) => {
    const said = history.length > 0 || options.greetingText ? ` ${options.greetingText ?? ''} ${history.join(' | ')}` : '';
    conn.write(options.place === 'greeting' ? `* OK [ALERT] hello${said}\r\n` : `* OK [CAPABILITY ${CAPABILITIES}] echo ready\r\n`);
    const read = async (): Promise<string> => {
      const line = await conn.readLine();
      history.push(line);
      if (options.place === 'untagged') conn.write(`* OK [ALERT] you said: ${line}\r\n* NO ${line}\r\n`);
      return line;
    };
    for (;;) {
      const line = await read();
      const [tag = '*', verb = ''] = line.split(' ', 2);
      switch (verb.toUpperCase()) {
        case 'CAPABILITY':
          conn.write(`* CAPABILITY ${CAPABILITIES}\r\n${tag} OK done\r\n`);
          break;
        case 'LOGIN':
        case 'AUTHENTICATE':
          if (!(await login(conn, tag, line, read, loginValues, options.place))) return;
          break;
        case 'SELECT':
          conn.write(`* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] ok\r\n${tag} OK [READ-WRITE] done\r\n`);
          break;
        case 'LIST':
          conn.write(`${tag} OK done\r\n`);
          break;
        case 'LOGOUT':
          conn.write(`* BYE bye\r\n${tag} OK done\r\n`);
          return;
        default:
          conn.write(`${tag} BAD ${line}\r\n`);
      }
    }
  };
  return { handler, loginValues };
}

/** One LOGIN/AUTHENTICATE exchange, its lines echoed at `place`; false once the session is over. */
async function login(
  conn: FakeConnection,
  tag: string,
  command: string,
  read: () => Promise<string>,
  values: string[],
  place: EchoPlace,
): Promise<boolean> {
  const exchange = [command];
  const words = command.split(' ');
  if (words[1]?.toUpperCase() === 'LOGIN') values.push(words.slice(3).join(' ').replace(/^"|"$/g, ''));
  else if (words[3] !== undefined) values.push(words[3]);
  else {
    conn.write(`+ ${words[2]?.toUpperCase() === 'CRAM-MD5' ? Buffer.from(ECHO_CRAM_CHALLENGE).toString('base64') : ''}\r\n`);
    const response = await read();
    values.push(response);
    exchange.push(response);
  }
  const text = exchange.join(' ');
  switch (place) {
    case 'untagged':
      conn.write(`${tag} OK logged in\r\n`);
      return true;
    case 'bye':
      conn.write(`* BYE ${text}\r\n`);
      return false;
    case 'continuation':
      for (const line of exchange) {
        for (const challenge of [line, Buffer.from(line).toString('base64')]) {
          conn.write(`+ ${challenge}\r\n`);
          const answer = await read();
          if (answer !== '') values.push(answer);
        }
      }
      conn.write(`${tag} NO ${text}\r\n`);
      return true;
    case 'no':
    case 'greeting':
      conn.write(`${tag} NO [AUTHENTICATIONFAILED] ${text}\r\n`);
      return true;
  }
}
