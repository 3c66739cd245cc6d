import type { Registry } from 'prom-client';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import { TextRegistry } from './exposition.js';
import { jobBase, JOB_SERIES, TARGET_SERIES, targetBase, writeGauges, writeIntervals } from './series.js';

/**
 * A fresh registry holding only the series of one on-demand probe (GET /probe), as
 * blackbox_exporter's /probe does: same names and labels as /metrics, values of this
 * run only, no process metrics and nothing that accumulates across runs.
 */
export function probeRegistry(job: ProbeJob, result: ProbeResult): Registry {
  return new TextRegistry(async (out) => {
    const base = jobBase(job.target, job.account);
    await writeGauges(out, JOB_SERIES, 'on-demand', [[base, result]]);
    await writeIntervals(out, 'on-demand', [[base, job]]);
    await writeGauges(out, TARGET_SERIES, 'on-demand', [[targetBase(job.target), result]]);
  });
}
