import type { Namespaces } from '../imap/commands/namespace.js';
import { ProbeError } from './errors.js';
import type { ListEntry, ListRequest, NamespaceListRequest } from './types.js';

export interface PlannedLists {
  /** The LISTs to send, in config order. */
  requests: ListRequest[];
  /** A namespace entry with expectations whose kind the server announced no prefix of. */
  unmet?: ProbeError;
}

/**
 * The LISTs of one probe: pattern entries as configured; each `{namespace: kind}` becomes
 * LIST "" "<prefix>*" for every prefix of that kind NAMESPACE announced (Courier's `#shared.`,
 * Dovecot's `shared/`), with the entry's expectations. So one config line checks shared
 * folders on either server, and `imap_folders` carries the pattern actually sent. An expanded
 * pattern that is already in the list is sent once, under the entry that named it first:
 * two series with one label set would make the exposition invalid.
 */
export function planLists(entries: readonly ListEntry[], namespaces: Namespaces | undefined): PlannedLists {
  const requests: ListRequest[] = [];
  const seen = new Set<string>();
  let unmet: ProbeError | undefined;
  const add = (request: ListRequest) => {
    const key = JSON.stringify([request.reference, request.pattern]);
    if (seen.has(key)) return;
    seen.add(key);
    requests.push(request);
  };
  for (const entry of entries) {
    if (!('namespace' in entry)) {
      add(entry);
      continue;
    }
    const prefixes = namespaces?.[entry.namespace] ?? [];
    for (const { prefix } of prefixes) add({ reference: '', pattern: `${prefix}*`, ...(entry.expect && { expect: entry.expect }) });
    if (prefixes.length === 0) unmet ??= nothingAnnounced(entry, namespaces !== undefined);
  }
  return unmet ? { requests, unmet } : { requests };
}

function nothingAnnounced(entry: NamespaceListRequest, answered: boolean): ProbeError | undefined {
  const { minFolders, folders } = entry.expect ?? {};
  const expected = [
    ...(minFolders !== undefined && minFolders > 0 ? [`expected at least ${minFolders} folder${minFolders === 1 ? '' : 's'}`] : []),
    ...(folders ? [`missing ${folders.join(', ')}`] : []),
  ];
  if (expected.length === 0) return undefined;
  const why = answered ? `the server's NAMESPACE announced no ${entry.namespace} namespace` : 'the server announced no namespaces (no NAMESPACE)';
  return new ProbeError('expectation_failed', `{namespace: ${entry.namespace}}: ${why}, ${expected.join('; ')}`, {
    hintCause: entry.namespace === 'shared' ? 'shared_folders' : 'missing_folders',
  });
}
