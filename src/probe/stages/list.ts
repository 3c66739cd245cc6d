import { list } from '../../imap/commands/list.js';
import type { ProbeContext } from '../context.js';
import { requireAccount, requireSession } from '../context.js';
import { ProbeError } from '../errors.js';
import { learnNamespaces } from '../learn/namespaces.js';

/** NAMESPACE when advertised, then LIST each configured pattern; a NO or BAD to a LIST fails the stage. */
export async function listStage(ctx: ProbeContext): Promise<void> {
  const session = requireSession(ctx);
  await learnNamespaces(ctx);
  for (const { reference, pattern } of requireAccount(ctx).list) {
    const answer = await list(session, reference, pattern);
    if (answer.status !== 'OK') {
      throw new ProbeError('list_failed', `LIST "${reference}" "${pattern}": the server answered ${answer.status} ${answer.tagged.text}`.trim());
    }
    ctx.facts.lists.push({ reference, pattern, folders: answer.folders });
  }
}
