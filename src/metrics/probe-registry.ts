import { Registry } from 'prom-client';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { MetricDef } from './definitions.js';
import { PROBE_INTERVAL } from './definitions.js';
import { familyHeader, formatValue, groupLines } from './exposition.js';
import type { SeriesTable } from './result-blocks.js';
import { jobBase, JOB_SERIES, TARGET_SERIES, targetBase } from './series.js';

/** The Content-Type of a /probe answer: the text format 0.0.4, as prom-client and /metrics send it. */
export const PROBE_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

// A family's HELP and TYPE lines never change: written once, not on every /probe.
const headers = new Map<MetricDef, string>();
function header(def: MetricDef): string {
  let text = headers.get(def);
  if (text === undefined) headers.set(def, (text = familyHeader(def.name, def.help('on-demand'), 'gauge')));
  return text;
}

function families(series: SeriesTable, base: string, result: ProbeResult): string[] {
  return series.map(([def, extract]) => header(def) + groupLines(def.name, base, result, extract));
}

/**
 * The exposition of one on-demand probe (GET /probe), as blackbox_exporter's /probe
 * answers: same names and labels as /metrics, values of this run only, no process
 * metrics and nothing that accumulates across runs. A few dozen lines, so written
 * in one go as a string: the streaming, sliced render of /metrics (and a prom-client
 * Registry per request) cost more than the lines themselves.
 */
export function probeExposition(job: ProbeJob, result: ProbeResult): string {
  const base = jobBase(job.target, job.account);
  return [
    ...families(JOB_SERIES, base, result),
    `${header(PROBE_INTERVAL)}${PROBE_INTERVAL.name}{${base}} ${formatValue(job.intervalMs / 1000)}\n`,
    ...families(TARGET_SERIES, targetBase(job.target), result),
  ].join('\n');
}
