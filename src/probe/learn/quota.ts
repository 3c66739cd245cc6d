import { getQuotaRoot } from '../../imap/commands/quota.js';
import type { ProbeContext } from '../context.js';
import { hasCapabilityAfterLogin, requireSession } from '../context.js';
import { describeStatus } from '../../imap/parser.js';

/**
 * GETQUOTAROOT of the selected mailbox, when the server advertises QUOTA. A NO (no quota
 * for this user, or the mailbox has none) is recorded, not a failure.
 */
export async function learnQuota(ctx: ProbeContext, mailbox: string): Promise<void> {
  if (!hasCapabilityAfterLogin(ctx, 'QUOTA')) return;
  const answer = await getQuotaRoot(requireSession(ctx), mailbox);
  if (answer.status === 'OK') ctx.facts.quota = { mailbox, roots: answer.roots };
  else ctx.facts.quotaRefused = ctx.transcript.redact(`GETQUOTAROOT ${mailbox}: the server answered ${describeStatus(answer.tagged)}`);
}
