import type { ImapResponse, ResponseCode } from '../parser.js';
import { isQuotable, quote } from '../quote.js';
import type { CommandResult, ImapSession } from '../session.js';
import { encodeModifiedUtf7 } from '../utf7.js';

/** What SELECT tells about a mailbox (RFC 3501 §6.3.1), as far as the server said it. */
export interface MailboxFacts {
  /** The name as configured (display form; sent in modified UTF-7). */
  name: string;
  exists?: number;
  recent?: number;
  uidValidity?: number;
  uidNext?: number;
  writable?: boolean;
  /** `* FLAGS (…)`: the flags the mailbox knows. */
  flags?: string[];
  /** `[PERMANENTFLAGS (…)]`: the flags a client may store for good; `\*` means new keywords are allowed. */
  permanentFlags?: string[];
  /** RFC 4314 rights of the logged-in user: SELECT's `[MYRIGHTS "…"]` code (Courier) or a MYRIGHTS command. */
  rights?: string;
}

/** SELECT, and what it tells about the mailbox: EXISTS, RECENT, UIDVALIDITY, UIDNEXT, flags, rights, access. */
export async function select(session: ImapSession, mailbox: string): Promise<CommandResult & { mailbox: MailboxFacts }> {
  const result = await session.command(`SELECT ${mailboxArgument(mailbox)}`);
  const facts: MailboxFacts = { name: mailbox };
  for (const response of result.untagged) readSelectData(response, facts);
  const access = result.tagged.code?.name;
  if (access === 'READ-WRITE') facts.writable = true;
  if (access === 'READ-ONLY') facts.writable = false;
  return { ...result, mailbox: facts };
}

function readSelectData(response: ImapResponse, facts: MailboxFacts): void {
  if (response.kind === 'EXISTS' && response.number !== undefined) facts.exists = response.number;
  else if (response.kind === 'RECENT' && response.number !== undefined) facts.recent = response.number;
  else if (response.kind === 'FLAGS' && Array.isArray(response.data[0])) facts.flags = atoms(response.data[0]);
  else if (response.code) readSelectCode(response.code, facts);
}

function readSelectCode(code: ResponseCode, facts: MailboxFacts): void {
  switch (code.name) {
    case 'UIDVALIDITY':
      if (/^\d+$/.test(code.args)) facts.uidValidity = Number(code.args);
      break;
    case 'UIDNEXT':
      if (/^\d+$/.test(code.args)) facts.uidNext = Number(code.args);
      break;
    case 'PERMANENTFLAGS':
      facts.permanentFlags = code.args.replace(/^\(|\)$/g, '').split(' ').filter((f) => f !== '');
      break;
    case 'MYRIGHTS': {
      const rights = code.args.replace(/^"(.*)"$/, '$1');
      if (rights !== '') facts.rights = rights;
      break;
    }
  }
}

function atoms(values: readonly unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}

/** A mailbox name as a command argument: modified UTF-7, quoted. */
export function mailboxArgument(name: string): string {
  const encoded = encodeModifiedUtf7(name);
  return isQuotable(encoded) ? quote(encoded) : quote(encoded.replace(/[^\x20-\x7e]/g, '?'));
}
