import { list } from '../../imap/commands/list.js';
import { describeStatus } from '../../imap/parser.js';
import type { ProbeContext } from '../context.js';
import { requireAccount, requireSession } from '../context.js';
import { ProbeError } from '../errors.js';
import { checkFolders } from '../expectations.js';
import { responseCodeCause } from '../hints.js';
import { learnNamespaces } from '../learn/namespaces.js';
import { checkNamespaceGroup, planLists } from '../list-requests.js';

/**
 * NAMESPACE when advertised, then LIST each configured pattern (a `{namespace: kind}` entry
 * once per announced prefix of that kind). Every pattern runs and
 * its facts are recorded before the stage fails on the first problem: a NO or BAD
 * (list_failed), or folders that do not meet the pattern's expectations (expectation_failed).
 */
export async function listStage(ctx: ProbeContext): Promise<void> {
  const session = requireSession(ctx);
  await learnNamespaces(ctx);
  const { requests, groups } = planLists(requireAccount(ctx).list, ctx.facts.namespaces);
  let firstFailure: ProbeError | undefined;
  for (const request of requests) {
    const { reference, pattern } = request;
    const answer = await list(session, reference, pattern);
    if (answer.status !== 'OK') {
      const said = `LIST "${reference}" "${pattern}": the server answered ${describeStatus(answer.tagged)}`;
      firstFailure ??= new ProbeError('list_failed', said, { hintCause: responseCodeCause(answer.tagged.code?.name) });
      continue;
    }
    const check = checkFolders(request, answer.folders);
    ctx.facts.lists.push({ reference, pattern, folders: answer.folders, ...(check.presence.length > 0 && { expectedFolders: check.presence }) });
    firstFailure ??= check.failure;
  }
  for (const group of groups) firstFailure ??= checkNamespaceGroup(group, ctx.facts.lists, ctx.facts.namespaces !== undefined);
  if (firstFailure) throw firstFailure;
}
