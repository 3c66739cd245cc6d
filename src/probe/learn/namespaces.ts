import { namespace } from '../../imap/commands/namespace.js';
import type { ProbeContext } from '../context.js';
import { hasCapabilityAfterLogin, requireSession } from '../context.js';
import { describeStatus } from '../../imap/parser.js';

/**
 * NAMESPACE after login, when advertised: the personal, other users' and shared prefixes
 * (list entries `{namespace: shared}` expand to them). A refusal is recorded, not a failure:
 * the probe is about reaching the mailbox, and a server may advertise more than it serves.
 */
export async function learnNamespaces(ctx: ProbeContext): Promise<void> {
  if (!hasCapabilityAfterLogin(ctx, 'NAMESPACE')) return;
  const answer = await namespace(requireSession(ctx));
  if (answer.status !== 'OK') {
    ctx.facts.namespaceRefused = ctx.transcript.redact(`NAMESPACE: the server answered ${describeStatus(answer.tagged)}`);
  } else if (!answer.namespaces) {
    ctx.facts.namespaceRefused = 'NAMESPACE: the server answered OK without a well-formed * NAMESPACE response';
  } else {
    ctx.facts.namespaces = answer.namespaces;
  }
}
