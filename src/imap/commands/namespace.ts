import { asText, type ImapValue } from '../parser.js';
import type { CommandResult, ImapSession } from '../session.js';
import { decodeModifiedUtf7 } from '../utf7.js';

export const NAMESPACE_TYPES = ['personal', 'other', 'shared'] as const;
/** RFC 2342's three kinds: the user's own, other users', shared (public) folders. */
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface Namespace {
  /** Display form of the prefix (modified UTF-7 decoded), e.g. `INBOX.`, `#shared.`, `shared/`. */
  prefix: string;
  /** Hierarchy delimiter, or null for a flat namespace (NIL). */
  delimiter: string | null;
}

export type Namespaces = Record<NamespaceType, Namespace[]>;

/**
 * NAMESPACE (RFC 2342): `* NAMESPACE (("" "/")) (("user/" "/")) (("shared/" "/"))`, each
 * of the three a list of (prefix delimiter [extensions]) or NIL. Undefined `namespaces`
 * when the server answered without a well-formed NAMESPACE response.
 */
export async function namespace(session: ImapSession): Promise<CommandResult & { namespaces?: Namespaces }> {
  const result = await session.command('NAMESPACE');
  const response = result.untagged.find((r) => r.kind === 'NAMESPACE');
  const namespaces = response ? parseNamespaceData(response.data) : undefined;
  return namespaces ? { ...result, namespaces } : result;
}

export function parseNamespaceData(data: readonly ImapValue[]): Namespaces | undefined {
  if (data.length < 3) return undefined;
  const namespaces: Namespaces = { personal: [], other: [], shared: [] };
  for (const [i, type] of NAMESPACE_TYPES.entries()) {
    const entries = data[i];
    if (entries === null) continue;
    if (!Array.isArray(entries)) return undefined;
    for (const entry of entries) {
      if (!Array.isArray(entry)) return undefined;
      const prefix = asText(entry[0]);
      if (prefix === undefined) return undefined;
      const delimiter = entry[1] === null ? null : asText(entry[1]);
      if (delimiter === undefined) return undefined;
      namespaces[type].push({ prefix: decodeModifiedUtf7(prefix), delimiter });
    }
  }
  return namespaces;
}
