import { capabilitySets, type CapabilityWhen } from '../probe/capability-sets.js';
import type { ListFacts, MailboxFacts, Namespaces, ProbeFacts, QuotaRoot } from '../probe/types.js';
import { folderTree } from './folder-tree.js';

/** Folders printed per LIST pattern unless `--all-folders`: keeps a healthy server on one screen. */
export const FOLDER_CAP = 50;
const WIDTH = 100;
const LABEL = 14;

export interface FactsOptions {
  allFolders: boolean;
}

const WHEN_TITLE: Record<CapabilityWhen, string> = { pre_tls: 'before TLS', post_tls: 'after TLS', post_login: 'after login' };
const NAMESPACE_TITLE: Record<keyof Namespaces, string> = { personal: 'personal', other: 'other users', shared: 'shared' };

/**
 * What telnet would have shown, decoded: the greeting, each capability list (the first
 * whole, the later ones as what changed), the SELECT data, quota, namespaces and every
 * LIST pattern's folders as a tree (mailbox names already decoded from modified UTF-7).
 * Only what the probe learnt is printed: a stage not reached adds nothing.
 */
export function formatServerFacts(facts: ProbeFacts, options: FactsOptions): string {
  const lines: string[] = [];
  if (facts.greeting !== undefined) lines.push(row('greeting', `* OK ${facts.greeting}`));
  lines.push(...capabilityLines(facts));
  if (facts.mailbox) lines.push(...mailboxLines(facts.mailbox));
  if (facts.quota) lines.push(row('quota', quotaText(facts.quota.mailbox, facts.quota.roots)));
  if (facts.quotaRefused) lines.push(row('quota', facts.quotaRefused));
  if (facts.namespaces) lines.push(row('namespaces', namespacesText(facts.namespaces)));
  if (facts.namespaceRefused) lines.push(row('namespaces', facts.namespaceRefused));
  for (const list of facts.lists) lines.push(...listLines(list, options));
  return lines.join('\n');
}

function row(label: string, text: string, indent = 0): string {
  const label_ = `${' '.repeat(indent)}${label}`;
  const head = label_.length < LABEL ? label_.padEnd(LABEL) : `${label_}  `;
  return `${head}${wrap(text, WIDTH - LABEL).join(`\n${' '.repeat(LABEL)}`)}`;
}

/** Word-wraps a long capability or flag list. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  out.push(line);
  return out;
}

function capabilityLines(facts: ProbeFacts): string[] {
  const sets = capabilitySets(facts);
  if (sets.length === 0) return [];
  const lines = ['capabilities'];
  let previous: string[] | undefined;
  for (const [when, list] of sets) {
    lines.push(row(WHEN_TITLE[when], previous ? changes(previous, list) : list.join(' '), 2));
    previous = list;
  }
  return lines;
}

/** `+AUTH=PLAIN −LOGINDISABLED`, compared case-insensitively; `(unchanged)` when equal. */
function changes(before: readonly string[], after: readonly string[]): string {
  const had = new Set(before.map((c) => c.toUpperCase()));
  const has = new Set(after.map((c) => c.toUpperCase()));
  const added = after.filter((c) => !had.has(c.toUpperCase())).map((c) => `+${c}`);
  const removed = before.filter((c) => !has.has(c.toUpperCase())).map((c) => `−${c}`);
  return [...removed, ...added].join(' ') || '(unchanged)';
}

function mailboxLines(mb: MailboxFacts): string[] {
  const parts = [`${mb.exists ?? '?'} messages (EXISTS)`, `${mb.recent ?? '?'} recent`, `UIDVALIDITY ${mb.uidValidity ?? '?'}`];
  if (mb.uidNext !== undefined) parts.push(`UIDNEXT ${mb.uidNext}`);
  if (mb.writable !== undefined) parts.push(mb.writable ? 'READ-WRITE' : 'READ-ONLY');
  const lines = [row('mailbox', `${mb.name}: ${parts.join(', ')}`)];
  if (mb.rights !== undefined) lines.push(row('rights', `${mb.rights} (MYRIGHTS)`, 2));
  if (mb.flags) lines.push(row('flags', mb.flags.join(' ') || '(none)', 2));
  if (mb.permanentFlags) lines.push(row('permanent', mb.permanentFlags.join(' ') || '(none)', 2));
  return lines;
}

function quotaText(mailbox: string, roots: readonly QuotaRoot[]): string {
  if (roots.length === 0) return `${mailbox}: no quota root`;
  return roots
    .map((root) => {
      const resources = root.resources.map((r) => {
        const unit = r.name === 'STORAGE' || r.name === 'ANNOTATION-STORAGE' ? ' KiB' : '';
        const share = r.limit > 0 ? ` (${((100 * r.usage) / r.limit).toFixed(1)} %)` : '';
        return `${r.name} ${r.usage}${unit} of ${r.limit}${unit}${share}`;
      });
      return `${JSON.stringify(root.name)}: ${resources.join(', ') || 'no resources'}`;
    })
    .join('; ');
}

function namespacesText(namespaces: Namespaces): string {
  return (Object.keys(NAMESPACE_TITLE) as (keyof Namespaces)[])
    .map((type) => {
      const list = namespaces[type];
      const text = list.map((n) => `${JSON.stringify(n.prefix)} (${n.delimiter === null ? 'flat' : JSON.stringify(n.delimiter)})`);
      return `${NAMESPACE_TITLE[type]} ${text.join(' ') || 'none'}`;
    })
    .join(' · ');
}

function listLines(list: ListFacts, options: FactsOptions): string[] {
  const count = list.folders.length;
  const lines = [row(`LIST ${JSON.stringify(list.reference)} ${JSON.stringify(list.pattern)}`, `${count} folder${count === 1 ? '' : 's'}`)];
  const tree = folderTree(list.folders);
  const shown = options.allFolders ? tree : tree.slice(0, FOLDER_CAP);
  for (const { depth, folder } of shown) {
    const attributes = folder.flags.filter((f) => f.toLowerCase() !== '\\hasnochildren').join(' ');
    lines.push(`  ${'  '.repeat(depth)}${folder.name}${attributes ? `  ${attributes}` : ''}`);
  }
  if (shown.length < tree.length) lines.push(`  … and ${tree.length - shown.length} more (--all-folders lists them all)`);
  return lines;
}
