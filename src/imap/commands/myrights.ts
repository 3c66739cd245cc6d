import { asText } from '../parser.js';
import type { CommandResult, ImapSession } from '../session.js';
import { mailboxArgument } from './select.js';

/** MYRIGHTS mailbox (RFC 4314 §3.8): the logged-in user's rights, e.g. `lrswipkxtecda`. */
export async function myRights(session: ImapSession, mailbox: string): Promise<CommandResult & { rights?: string }> {
  const result = await session.command(`MYRIGHTS ${mailboxArgument(mailbox)}`);
  for (const response of result.untagged) {
    if (response.kind !== 'MYRIGHTS') continue;
    const rights = asText(response.data[1]);
    if (rights !== undefined && rights !== '') return { ...result, rights };
  }
  return result;
}
