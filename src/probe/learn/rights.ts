import { myRights } from '../../imap/commands/myrights.js';
import type { MailboxFacts } from '../../imap/commands/select.js';
import type { ProbeContext } from '../context.js';
import { hasCapabilityAfterLogin, requireSession } from '../context.js';

/**
 * The user's rights on the selected mailbox: Courier puts `[MYRIGHTS "…"]` in SELECT's
 * answer; other servers with ACL (RFC 4314) are asked with MYRIGHTS. A refusal leaves
 * the rights unknown: it is not what the probe checks.
 */
export async function learnRights(ctx: ProbeContext, mailbox: MailboxFacts): Promise<void> {
  if (mailbox.rights !== undefined || !hasCapabilityAfterLogin(ctx, 'ACL')) return;
  const answer = await myRights(requireSession(ctx), mailbox.name);
  if (answer.status === 'OK' && answer.rights !== undefined) mailbox.rights = answer.rights;
}
