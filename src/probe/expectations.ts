/**
 * Expectations: the server answered OK, but is it what this probe should see? A
 * mailbox that suddenly looks empty (Courier shows 0 EXISTS when it cannot read cur/),
 * or a LIST of the shared namespace that returns nothing (no virtual shared folder
 * visible to this login id) is a failure an administrator wants to hear about.
 */
import { ProbeError } from './errors.js';
import type { FolderPresence, ListedFolder, ListRequest, MailboxFacts, SelectExpectation } from './types.js';

/** `expectation_failed` when SELECT showed fewer messages than `min_messages`. */
export function checkMessages(mailbox: MailboxFacts, expect: SelectExpectation | undefined): ProbeError | undefined {
  const min = expect?.minMessages;
  if (min === undefined || (mailbox.exists ?? 0) >= min) return undefined;
  const shown = mailbox.exists === undefined ? 'no EXISTS count' : `${mailbox.exists} message${mailbox.exists === 1 ? '' : 's'}`;
  return new ProbeError('expectation_failed', `SELECT ${mailbox.name} showed ${shown}, expected at least ${min}`, {
    hintCause: 'too_few_messages',
  });
}

export interface FolderCheck {
  /** Each folder name the config expects, and whether LIST returned it. */
  presence: FolderPresence[];
  failure?: ProbeError;
}

/** The folders one LIST returned against its `min_folders` and `folders`. */
export function checkFolders(request: ListRequest, folders: readonly ListedFolder[]): FolderCheck {
  const expect = request.expect;
  const returned = new Set(folders.map((f) => normalName(f.name)));
  const presence = (expect?.folders ?? []).map((name) => ({ name, present: returned.has(normalName(name)) }));
  const problems: string[] = [];
  if (expect?.minFolders !== undefined && folders.length < expect.minFolders) {
    problems.push(`expected at least ${expect.minFolders}`);
  }
  const missing = presence.filter((p) => !p.present).map((p) => p.name);
  if (missing.length > 0) problems.push(`missing ${missing.join(', ')}`);
  if (problems.length === 0) return { presence };
  const said = `LIST ${JSON.stringify(request.reference)} ${JSON.stringify(request.pattern)} returned ${folders.length} folder${folders.length === 1 ? '' : 's'}`;
  const hintCause = folders.length === 0 && isSharedNamespace(request) ? 'shared_folders' : 'missing_folders';
  return { presence, failure: new ProbeError('expectation_failed', `${said}, ${problems.join('; ')}`, { hintCause }) };
}

/**
 * The usual prefixes of shared namespaces: Courier's `#shared.` (virtual shared folders),
 * Dovecot's `shared/` or `Shared.`, and public folders.
 */
function isSharedNamespace(request: ListRequest): boolean {
  return /^#?(shared|public)\b/i.test(`${request.reference}${request.pattern}`);
}

/** INBOX is case-insensitive (RFC 3501 §5.1), also as the first level of a hierarchy (Courier's INBOX.Sent). */
function normalName(name: string): string {
  return name.replace(/^inbox(?=$|[^A-Za-z0-9])/i, 'INBOX');
}
