import { select } from '../../imap/commands/select.js';
import { describeStatus } from '../../imap/parser.js';
import type { ProbeContext } from '../context.js';
import { requireAccount, requireSession } from '../context.js';
import { ProbeError } from '../errors.js';
import { checkMessages } from '../expectations.js';
import { responseCodeCause } from '../hints.js';
import { learnQuota } from '../learn/quota.js';
import { learnRights } from '../learn/rights.js';

/** SELECT the account's mailbox (EXISTS, RECENT, UIDVALIDITY, UIDNEXT, READ-WRITE), then its rights and quota. */
export async function selectStage(ctx: ProbeContext): Promise<void> {
  const { mailbox } = requireAccount(ctx);
  const answer = await select(requireSession(ctx), mailbox);
  const said = `SELECT ${mailbox}: the server answered ${describeStatus(answer.tagged)}`;
  const code = answer.tagged.code?.name;
  const hintCause = responseCodeCause(code);
  if (answer.status === 'NO') throw new ProbeError('select_failed', said, { hintCause });
  if (answer.status === 'BAD') throw new ProbeError('protocol_error', said, { hintCause });
  ctx.facts.mailbox = answer.mailbox;
  await learnRights(ctx, answer.mailbox);
  await learnQuota(ctx, mailbox);
  const unmet = checkMessages(answer.mailbox, requireAccount(ctx).expect);
  if (unmet) throw unmet;
}
