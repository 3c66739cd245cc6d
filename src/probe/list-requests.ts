import type { Namespaces } from '../imap/commands/namespace.js';
import { ProbeError } from './errors.js';
import { checkFolders } from './expectations.js';
import type { ListEntry, ListFacts, ListRequest, NamespaceListRequest } from './types.js';

/** A `{namespace: kind}` entry with expectations, and the LISTs it became: checked together. */
export interface NamespaceGroup {
  entry: NamespaceListRequest;
  requests: ListRequest[];
}

export interface PlannedLists {
  /** The LISTs to send, in config order. */
  requests: ListRequest[];
  groups: NamespaceGroup[];
}

/**
 * The LISTs of one probe: pattern entries as configured; each `{namespace: kind}` becomes
 * LIST "" "<prefix>*" for every prefix of that kind NAMESPACE announced (Courier's `#shared.`
 * and `shared.`, Dovecot's `shared/`), so one config line checks shared folders on either
 * server, and `imap_folders` carries the pattern actually sent. An expanded pattern already
 * in the list is sent once, under the entry that named it first: two series with one label
 * set would make the exposition invalid. The entry's expectations apply to its LISTs
 * together ("some shared folder is visible"), not to each: Courier's `shared.` is empty.
 */
export function planLists(entries: readonly ListEntry[], namespaces: Namespaces | undefined): PlannedLists {
  const requests: ListRequest[] = [];
  const groups: NamespaceGroup[] = [];
  const seen = new Set<string>();
  const add = (request: ListRequest): boolean => {
    const key = JSON.stringify([request.reference, request.pattern]);
    if (seen.has(key)) return false;
    seen.add(key);
    requests.push(request);
    return true;
  };
  for (const entry of entries) {
    if (!('namespace' in entry)) {
      add(entry);
      continue;
    }
    const expanded = (namespaces?.[entry.namespace] ?? []).map(({ prefix }): ListRequest => ({ reference: '', pattern: `${prefix}*` }));
    const own = expanded.filter(add);
    if (entry.expect) groups.push({ entry, requests: own.length > 0 ? own : expanded });
  }
  return { requests, groups };
}

/**
 * Checks a namespace entry's expectations against what its LISTs returned (facts already
 * recorded), and records the expected folders' presence on the first of them.
 */
export function checkNamespaceGroup(group: NamespaceGroup, lists: readonly ListFacts[], announced: boolean): ProbeError | undefined {
  const { entry } = group;
  const facts = group.requests.map((r) => lists.find((l) => l.reference === r.reference && l.pattern === r.pattern));
  if (facts.some((f) => f === undefined)) return undefined; // a LIST failed: that failure is reported
  const folders = facts.flatMap((f) => f!.folders);
  const [only] = group.requests;
  const check = checkFolders({ ...(only ?? { reference: '', pattern: '' }), expect: entry.expect ?? {} }, folders);
  const first = facts[0];
  if (first && check.presence.length > 0) first.expectedFolders = [...(first.expectedFolders ?? []), ...check.presence];
  if (!check.failure || group.requests.length === 1) return check.failure;
  const lsts = group.requests.map((r) => `LIST ${JSON.stringify(r.reference)} ${JSON.stringify(r.pattern)}`).join(', ');
  const why = group.requests.length === 0
    ? announced ? `the server's NAMESPACE announced no ${entry.namespace} namespace` : 'the server announced no namespaces (no NAMESPACE)'
    : `${lsts} returned ${folders.length} folder${folders.length === 1 ? '' : 's'}`;
  return new ProbeError('expectation_failed', `{namespace: ${entry.namespace}}: ${why}, ${problems(entry, folders.length, check.presence)}`, {
    hintCause: entry.namespace === 'shared' && folders.length === 0 ? 'shared_folders' : 'missing_folders',
  });
}

/** The same words as checkFolders: `expected at least N`, `missing A, B`. */
function problems(entry: NamespaceListRequest, count: number, presence: readonly { name: string; present: boolean }[]): string {
  const { minFolders } = entry.expect ?? {};
  const missing = presence.filter((p) => !p.present).map((p) => p.name);
  return [
    ...(minFolders !== undefined && count < minFolders ? [`expected at least ${minFolders}`] : []),
    ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
  ].join('; ');
}
