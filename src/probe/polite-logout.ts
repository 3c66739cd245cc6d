import type { ProbeContext } from './context.js';
import type { Reason } from './reasons.js';
import type { ProbeFailure } from './types.js';

/** A LOGOUT that is only a courtesy gets at most this long (and never more than the deadline leaves). */
export const POLITE_LOGOUT_MAX_MS = 1000;

/**
 * After these the dialogue cannot go on: the peer is not speaking IMAP, the connection
 * is gone or out of step, or the deadline cut it off. A LOGOUT then is noise or a hang.
 */
const NO_LOGOUT_AFTER: ReadonlySet<Reason> = new Set<Reason>([
  'protocol_error',
  'timeout',
  'connection_closed',
  'greeting_invalid',
  'greeting_bye',
]);

/**
 * Ends a session whose stage failed (NO to LOGIN or SELECT, an unmet expectation, …)
 * with LOGOUT rather than by dropping the connection, so the server logs a clean
 * logout instead of an "unexpected disconnect" next to the failure an administrator
 * is looking for. Not a stage: it is recorded in the transcript only, and whatever
 * happens to it leaves the result alone.
 */
export async function politeLogout(ctx: ProbeContext, failure: ProbeFailure): Promise<void> {
  const session = ctx.session;
  if (!session?.isOpen() || NO_LOGOUT_AFTER.has(failure.reason) || ctx.deadline.expired) return;
  const budgetMs = Math.floor(Math.min(ctx.deadline.remainingMs(), POLITE_LOGOUT_MAX_MS));
  if (budgetMs <= 0) return;
  ctx.transcript.record('-', `LOGOUT after the failed ${failure.stage} stage (not a stage; waiting at most ${budgetMs} ms)`);
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'gave up'>((resolve) => {
    timer = setTimeout(() => resolve('gave up'), budgetMs);
  });
  try {
    const outcome = await Promise.race([ctx.deadline.race(session.command('LOGOUT')), gaveUp]);
    const said = outcome === 'gave up' ? `no answer to LOGOUT within ${budgetMs} ms` : `LOGOUT answered ${outcome.status}`;
    ctx.transcript.record('-', said);
  } catch {
    ctx.transcript.record('-', 'the connection ended during LOGOUT');
  } finally {
    clearTimeout(timer);
  }
  ctx.socket?.end();
}
