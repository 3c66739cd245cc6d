import { asText, type ImapValue } from '../parser.js';
import { quote } from '../quote.js';
import type { CommandResult, ImapSession } from '../session.js';
import { decodeModifiedUtf7 } from '../utf7.js';
import { mailboxArgument } from './select.js';

/** One `* LIST` entry. */
export interface ListedFolder {
  /** Display name, modified UTF-7 decoded. */
  name: string;
  delimiter: string | null;
  /** Attributes as sent: `\Noselect`, `\HasChildren`, special-use such as `\Sent`. */
  flags: string[];
}

/** LIST reference pattern: every `* LIST (flags) delimiter name` line, names decoded for display. */
export async function list(
  session: ImapSession,
  reference: string,
  pattern: string,
): Promise<CommandResult & { folders: ListedFolder[] }> {
  const result = await session.command(`LIST ${quote(reference)} ${mailboxArgument(pattern)}`);
  const folders: ListedFolder[] = [];
  for (const response of result.untagged) {
    if (response.kind !== 'LIST') continue;
    const folder = parseListData(response.data);
    if (folder) folders.push(folder);
  }
  return { ...result, folders };
}

/** `(\HasNoChildren) "." "INBOX.Drafts"` → flags, delimiter (any character, or NIL), decoded name. */
export function parseListData(data: readonly ImapValue[]): ListedFolder | undefined {
  const [flags, delimiter, name] = data;
  if (!Array.isArray(flags)) return undefined;
  const text = asText(name);
  if (text === undefined) return undefined;
  return {
    name: decodeModifiedUtf7(text),
    delimiter: delimiter === null ? null : (asText(delimiter) ?? null),
    flags: flags.filter((f): f is string => typeof f === 'string'),
  };
}
