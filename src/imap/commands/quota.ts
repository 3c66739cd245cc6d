import { asText, type ImapValue } from '../parser.js';
import type { CommandResult, ImapSession } from '../session.js';
import { mailboxArgument } from './select.js';

/** One resource of a quota root, in the server's units (RFC 9208 §5: STORAGE and ANNOTATION-STORAGE in KiB). */
export interface QuotaResource {
  /** Upper-cased: STORAGE, MESSAGE, MAILBOX, ANNOTATION-STORAGE, or what the server names. */
  name: string;
  usage: number;
  limit: number;
}

export interface QuotaRoot {
  name: string;
  resources: QuotaResource[];
}

/**
 * GETQUOTAROOT mailbox (RFC 9208 §4.3, same syntax as RFC 2087 which Courier speaks):
 * `* QUOTAROOT INBOX "User quota"` names the roots, then one `* QUOTA "User quota"
 * (STORAGE 10 1024 MESSAGE 3 100)` per root. A root named without a QUOTA response is
 * kept with no resources; a malformed resource triple is skipped.
 */
export async function getQuotaRoot(session: ImapSession, mailbox: string): Promise<CommandResult & { roots: QuotaRoot[] }> {
  const result = await session.command(`GETQUOTAROOT ${mailboxArgument(mailbox)}`);
  const roots = new Map<string, QuotaRoot>();
  const rootOf = (name: string): QuotaRoot => {
    let root = roots.get(name);
    if (!root) roots.set(name, (root = { name, resources: [] }));
    return root;
  };
  for (const response of result.untagged) {
    if (response.kind === 'QUOTAROOT') {
      for (const value of response.data.slice(1)) {
        const name = asText(value);
        if (name !== undefined) rootOf(name);
      }
    } else if (response.kind === 'QUOTA') {
      const name = asText(response.data[0]);
      const list = response.data[1];
      if (name !== undefined && Array.isArray(list)) rootOf(name).resources = parseResources(list);
    }
  }
  return { ...result, roots: [...roots.values()] };
}

/** `(STORAGE 10 1024 MESSAGE 3 100)` → resources; numbers must be whole and exact (number64 beyond 2^53 is dropped). */
export function parseResources(list: readonly ImapValue[]): QuotaResource[] {
  const resources: QuotaResource[] = [];
  for (let i = 0; i + 2 < list.length; i += 3) {
    const [name, usage, limit] = [asText(list[i]), asText(list[i + 1]), asText(list[i + 2])];
    if (name === undefined || !isCount(usage) || !isCount(limit)) continue;
    resources.push({ name: name.toUpperCase(), usage: Number(usage), limit: Number(limit) });
  }
  return resources;
}

function isCount(text: string | undefined): text is string {
  return text !== undefined && /^\d{1,16}$/.test(text) && Number.isSafeInteger(Number(text));
}
