import type { ProbeJob, ProbeResult } from '../probe/types.js';
import * as m from './definitions.js';
import type { Subject } from './definitions.js';
import { flat } from '../flat-string.js';
import { labelPair, type Emit, type ExpositionText } from './exposition.js';
import { ResultBlocks, writeBlocks, type Extract, type SeriesTable } from './result-blocks.js';
import { countedQuota, emitCapabilities, emitNamespaces, emitRights, storageQuota } from './server-series.js';

export type { Extract } from './result-blocks.js';

/*
 * How each per-probe metric reads one ProbeResult. /metrics applies these to every
 * job's latest result (pre-rendered when the result arrives, see result-blocks.ts),
 * /probe to the run it just made: one reading, two endpoints. Each emits the labels
 * after the job's or target's own (`,name="value"` pairs, in the order the definition
 * lists them) and the value. A new per-probe family is one more entry in a table.
 */

const flag = (b: boolean): number => (b ? 1 : 0);

// Stage names are a closed set: their label text is formatted once.
const stageLabels = new Map<string, string>();
function stageLabel(stage: string): string {
  let text = stageLabels.get(stage);
  if (text === undefined) stageLabels.set(stage, (text = `,${labelPair('phase', stage)}`));
  return text;
}

/** Series of one job (after the target and account labels). */
export const JOB_SERIES: SeriesTable = [
  [m.PROBE_SUCCESS, (r, emit) => emit('', flag(r.success))],
  [
    m.STAGE_SUCCESS,
    (r, emit) => {
      for (const s of r.stages) emit(stageLabel(s.stage), flag(s.success));
    },
  ],
  [
    m.STAGE_DURATION,
    (r, emit) => {
      for (const s of r.stages) emit(stageLabel(s.stage), s.durationSeconds);
    },
  ],
  [
    m.FAILURE_INFO,
    (r, emit) => {
      if (r.failure) emit(`${stageLabel(r.failure.stage)},${labelPair('reason', r.failure.reason)}`, 1);
    },
  ],
  [m.PROBE_DURATION, (r, emit) => emit('', r.durationSeconds)],
  [m.MAILBOX_MESSAGES, mailbox((mb) => mb.exists)],
  [m.MAILBOX_RECENT, mailbox((mb) => mb.recent)],
  [m.MAILBOX_UIDVALIDITY, mailbox((mb) => mb.uidValidity)],
  [m.MAILBOX_WRITABLE, mailbox((mb) => (mb.writable === undefined ? undefined : flag(mb.writable)))],
  [m.MAILBOX_UIDNEXT, mailbox((mb) => mb.uidNext)],
  [m.MAILBOX_RIGHTS, emitRights],
  [m.NAMESPACE_INFO, emitNamespaces],
  [m.QUOTA_STORAGE_USAGE, storageQuota('usage')],
  [m.QUOTA_STORAGE_LIMIT, storageQuota('limit')],
  [m.QUOTA_USAGE, countedQuota('usage')],
  [m.QUOTA_LIMIT, countedQuota('limit')],
  [
    m.FOLDERS,
    (r, emit) => {
      for (const list of r.facts.lists) {
        const reference = list.reference === '' ? '' : `,${labelPair('reference', list.reference)}`;
        emit(`,${labelPair('pattern', list.pattern)}${reference}`, list.folders.length);
      }
    },
  ],
  [m.FOLDER_PRESENT, folderPresence],
];

/** One series per folder name the config expects; two entries expecting one name share it (present if either LIST had it). */
function folderPresence(r: ProbeResult, emit: Emit): void {
  const present = new Map<string, boolean>();
  for (const list of r.facts.lists) {
    for (const f of list.expectedFolders ?? []) present.set(f.name, (present.get(f.name) ?? false) || f.present);
  }
  for (const [name, isPresent] of present) emit(`,${labelPair('folder', name)}`, flag(isPresent));
}

/** Series of one target (after the target label), read from its latest result. */
export const TARGET_SERIES: SeriesTable = [
  [
    m.TLS_NOT_AFTER,
    (r, emit) => {
      const notAfter = r.facts.tls?.certNotAfter;
      if (notAfter !== undefined) emit('', notAfter);
    },
  ],
  [
    m.TLS_INFO,
    (r, emit) => {
      const tls = r.facts.tls;
      if (tls?.version && tls.cipher) emit(`,${labelPair('version', tls.version)},${labelPair('cipher', tls.cipher)}`, 1);
    },
  ],
  [m.CAPABILITY, emitCapabilities],
];

function mailbox(read: (mb: NonNullable<ProbeResult['facts']['mailbox']>) => number | undefined): Extract {
  return (r, emit) => {
    const mb = r.facts.mailbox;
    if (!mb) return;
    const value = read(mb);
    if (value !== undefined) emit(`,${labelPair('mailbox', mb.name)}`, value);
  };
}

/** The formatted `target` and `account` labels of a job; `account` left out for an unauthenticated probe (see definitions.ts). */
/** Flat: kept per job (as the key of its lines), where a rope's headers add up. */
export function jobBase(target: string, account: string | undefined): string {
  const base = labelPair('target', target);
  return flat(account === undefined || account === '' ? base : `${base},${labelPair('account', account)}`);
}

export function targetBase(target: string): string {
  return flat(labelPair('target', target));
}

/** `imap_probe_interval_seconds` for each (formatted base labels, job): config, not a result, so a job has it before its first run. */
export function writeIntervals(
  out: ExpositionText,
  subject: Subject,
  groups: ReadonlyArray<readonly [string, Pick<ProbeJob, 'intervalMs'>]>,
): Promise<void> {
  const family = out.family(m.PROBE_INTERVAL.name, m.PROBE_INTERVAL.help(subject), 'gauge');
  return out.each(groups, ([base, job]) => family.sample(base, job.intervalMs / 1000));
}

/**
 * One gauge family per entry of `series`, each over `groups` of (formatted base labels,
 * result), or over the blocks as they are (see writeBlocks). Pass the same `blocks`
 * across scrapes to reuse what earlier ones rendered.
 */
export function writeGauges(
  out: ExpositionText,
  series: SeriesTable,
  subject: Subject,
  groups: Iterable<readonly [string, ProbeResult]> | undefined,
  blocks: ResultBlocks = new ResultBlocks(series),
): Promise<void> {
  return writeBlocks(out, blocks, series, (def) => def.help(subject), groups);
}
