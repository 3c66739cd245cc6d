import { capabilitySets } from '../probe/capability-sets.js';
import type { ProbeResult } from '../probe/types.js';
import { labelPair, type Emit } from './exposition.js';

/**
 * Series whose label values a server chooses (capabilities, namespace prefixes, quota
 * root names, rights). Each is bounded in count and length and de-duplicated: one hostile
 * 64 KiB response must not become thousands of series or an invalid exposition.
 */

/** Real servers advertise 10 to 50 capabilities per list, each a short word; 100 per target in all. */
const MAX_CAPABILITIES = 100;
const MAX_LABEL_LENGTH = 64;
/** Real servers announce one to four namespaces. */
const MAX_NAMESPACES = 20;
/** Real servers have one or two quota roots per mailbox, a few resources each. */
const MAX_QUOTA_ROOTS = 10;
const MAX_QUOTA_RESOURCES = 10;
const KIB = 1024;

const fits = (value: string): boolean => value.length <= MAX_LABEL_LENGTH;

/** imap_server_capability{capability, when}: every list the probe saw, at most MAX_CAPABILITIES in all. */
export function emitCapabilities(r: ProbeResult, emit: Emit): void {
  let budget = MAX_CAPABILITIES;
  for (const [when, list] of capabilitySets(r.facts)) {
    const whenLabel = `,${labelPair('when', when)}`;
    // Capability names are case-insensitive (RFC 3501); one spelling keeps series stable.
    for (const capability of new Set(list.filter(fits).map((c) => c.toUpperCase()))) {
      if (budget-- <= 0) return;
      emit(`,${labelPair('capability', capability)}${whenLabel}`, 1);
    }
  }
}

export function emitRights(r: ProbeResult, emit: Emit): void {
  const mb = r.facts.mailbox;
  if (mb?.rights !== undefined && fits(mb.rights)) emit(`,${labelPair('mailbox', mb.name)},${labelPair('rights', mb.rights)}`, 1);
}

export function emitNamespaces(r: ProbeResult, emit: Emit): void {
  const namespaces = r.facts.namespaces;
  if (!namespaces) return;
  const seen = new Set<string>();
  for (const [type, list] of Object.entries(namespaces)) {
    for (const { prefix, delimiter } of list) {
      if (!fits(prefix) || seen.size >= MAX_NAMESPACES) continue;
      const labels = `,${labelPair('type', type)},${labelPair('prefix', prefix)},${labelPair('delimiter', delimiter ?? '')}`;
      if (seen.has(labels)) continue;
      seen.add(labels);
      emit(labels, 1);
    }
  }
}

type QuotaValue = 'usage' | 'limit';

/** imap_quota_storage_{usage,limit}_bytes{root}: STORAGE, which RFC 9208 counts in KiB. */
export function storageQuota(value: QuotaValue): (r: ProbeResult, emit: Emit) => void {
  return (r, emit) => {
    for (const { root, resource } of quotaResources(r)) {
      if (resource.name === 'STORAGE') emit(`,${labelPair('root', root)}`, resource[value] * KIB);
    }
  };
}

/**
 * imap_quota_{usage,limit}{root, resource}: counted resources (MESSAGE, MAILBOX, …).
 * ANNOTATION-STORAGE is KiB too and would mix units in one family: it is left out.
 */
export function countedQuota(value: QuotaValue): (r: ProbeResult, emit: Emit) => void {
  return (r, emit) => {
    for (const { root, resource } of quotaResources(r)) {
      if (resource.name === 'STORAGE' || resource.name === 'ANNOTATION-STORAGE') continue;
      emit(`,${labelPair('root', root)},${labelPair('resource', resource.name)}`, resource[value]);
    }
  };
}

function* quotaResources(r: ProbeResult) {
  for (const root of (r.facts.quota?.roots ?? []).filter((q) => fits(q.name)).slice(0, MAX_QUOTA_ROOTS)) {
    const seen = new Set<string>();
    for (const resource of root.resources) {
      if (seen.has(resource.name) || !fits(resource.name) || seen.size >= MAX_QUOTA_RESOURCES) continue;
      seen.add(resource.name);
      yield { root: root.name, resource };
    }
  }
}
