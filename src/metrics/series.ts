import type { Gauge } from 'prom-client';
import type { ProbeResult } from '../probe/types.js';
import * as m from './definitions.js';
import type { Labels, MetricDef } from './definitions.js';

/**
 * How each per-probe metric reads one ProbeResult. /metrics applies these to every
 * job's latest result at scrape time, /probe to the run it just made: one reading,
 * two endpoints.
 */
export type Emit = (labels: Labels, value: number) => void;
export type Extract = (result: ProbeResult, base: Labels, emit: Emit) => void;

const flag = (b: boolean): number => (b ? 1 : 0);

/** Series of one job (`base` = target and account labels). */
export const JOB_SERIES: ReadonlyArray<readonly [MetricDef, Extract]> = [
  [m.PROBE_SUCCESS, (r, base, emit) => emit(base, flag(r.success))],
  [m.STAGE_SUCCESS, (r, base, emit) => r.stages.forEach((s) => emit({ ...base, stage: s.stage }, flag(s.success)))],
  [m.STAGE_DURATION, (r, base, emit) => r.stages.forEach((s) => emit({ ...base, stage: s.stage }, s.durationSeconds))],
  [m.PROBE_DURATION, (r, base, emit) => emit(base, r.durationSeconds)],
  [m.MAILBOX_MESSAGES, mailbox((mb) => mb.exists)],
  [m.MAILBOX_RECENT, mailbox((mb) => mb.recent)],
  [m.MAILBOX_UIDVALIDITY, mailbox((mb) => mb.uidValidity)],
  [m.MAILBOX_WRITABLE, mailbox((mb) => (mb.writable === undefined ? undefined : flag(mb.writable)))],
  [
    m.FOLDERS,
    (r, base, emit) => {
      for (const list of r.facts.lists) {
        const labels: Labels = { ...base, pattern: list.pattern };
        if (list.reference !== '') labels.reference = list.reference;
        emit(labels, list.folders.length);
      }
    },
  ],
];

/** Series of one target (`base` = the target label), read from its latest result. */
export const TARGET_SERIES: ReadonlyArray<readonly [MetricDef, Extract]> = [
  [
    m.TLS_NOT_AFTER,
    (r, base, emit) => {
      const notAfter = r.facts.tls?.certNotAfter;
      if (notAfter !== undefined) emit(base, notAfter);
    },
  ],
  [
    m.TLS_INFO,
    (r, base, emit) => {
      const tls = r.facts.tls;
      if (tls?.version && tls.cipher) emit({ ...base, version: tls.version, cipher: tls.cipher }, 1);
    },
  ],
  [
    m.CAPABILITY,
    (r, base, emit) => {
      // Capability names are case-insensitive (RFC 3501); one spelling keeps series stable.
      for (const capability of r.facts.capabilities ?? []) emit({ ...base, capability: capability.toUpperCase() }, 1);
    },
  ],
];

function mailbox(read: (mb: NonNullable<ProbeResult['facts']['mailbox']>) => number | undefined): Extract {
  return (r, base, emit) => {
    const mb = r.facts.mailbox;
    if (!mb) return;
    const value = read(mb);
    if (value !== undefined) emit({ ...base, mailbox: mb.name }, value);
  };
}

/** An Emit that sets a gauge, dropping values the text format cannot carry faithfully. */
export function setOn(gauge: Gauge<string>): Emit {
  return (labels, value) => {
    if (Number.isFinite(value)) gauge.set(labels, value);
  };
}
