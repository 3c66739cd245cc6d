import type { MailboxFacts } from '../../probe/types.js';
import { isQuotable, quote } from '../quote.js';
import type { CommandResult, ImapSession } from '../session.js';
import { encodeModifiedUtf7 } from '../utf7.js';

/** SELECT, and what it tells about the mailbox: EXISTS, RECENT, UIDVALIDITY, READ-WRITE/READ-ONLY. */
export async function select(session: ImapSession, mailbox: string): Promise<CommandResult & { mailbox: MailboxFacts }> {
  const result = await session.command(`SELECT ${mailboxArgument(mailbox)}`);
  const facts: MailboxFacts = { name: mailbox };
  for (const response of result.untagged) {
    if (response.kind === 'EXISTS' && response.number !== undefined) facts.exists = response.number;
    if (response.kind === 'RECENT' && response.number !== undefined) facts.recent = response.number;
    if (response.code?.name === 'UIDVALIDITY' && /^\d+$/.test(response.code.args)) {
      facts.uidValidity = Number(response.code.args);
    }
  }
  const access = result.tagged.code?.name;
  if (access === 'READ-WRITE') facts.writable = true;
  if (access === 'READ-ONLY') facts.writable = false;
  return { ...result, mailbox: facts };
}

/** A mailbox name as a command argument: modified UTF-7, quoted. */
export function mailboxArgument(name: string): string {
  const encoded = encodeModifiedUtf7(name);
  return isQuotable(encoded) ? quote(encoded) : quote(encoded.replace(/[^\x20-\x7e]/g, '?'));
}
