import { select } from '../../imap/commands/select.js';
import type { ProbeContext } from '../context.js';
import { requireAccount, requireSession } from '../context.js';
import { ProbeError } from '../errors.js';

/** SELECT the account's mailbox: EXISTS, RECENT, UIDVALIDITY, READ-WRITE. */
export async function selectStage(ctx: ProbeContext): Promise<void> {
  const mailbox = requireAccount(ctx).mailbox;
  const answer = await select(requireSession(ctx), mailbox);
  const said = `${answer.status} ${answer.tagged.code ? `[${answer.tagged.code.name}] ` : ''}${answer.tagged.text}`.trim();
  if (answer.status === 'NO') throw new ProbeError('select_failed', `SELECT ${mailbox}: the server answered ${said}`);
  if (answer.status === 'BAD') throw new ProbeError('protocol_error', `SELECT ${mailbox}: the server answered ${said}`);
  ctx.facts.mailbox = answer.mailbox;
}
