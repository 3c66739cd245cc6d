import { Gauge, Registry } from 'prom-client';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import { jobLabels, type MetricDef } from './definitions.js';
import { JOB_SERIES, setOn, TARGET_SERIES, type Extract } from './series.js';

/**
 * A fresh registry holding only the series of one on-demand probe (GET /probe), as
 * blackbox_exporter's /probe does: same names and labels as /metrics, values of this
 * run only, no process metrics and nothing that accumulates across runs.
 */
export function probeRegistry(job: ProbeJob, result: ProbeResult): Registry {
  const registry = new Registry();
  const add = (series: ReadonlyArray<readonly [MetricDef, Extract]>, base: Record<string, string>): void => {
    for (const [def, extract] of series) {
      const gauge = new Gauge({
        name: def.name,
        help: def.help('on-demand'),
        labelNames: def.labelNames,
        registers: [registry],
      });
      extract(result, base, setOn(gauge));
    }
  };
  add(JOB_SERIES, jobLabels(job.target, job.account));
  add(TARGET_SERIES, { target: job.target });
  return registry;
}
