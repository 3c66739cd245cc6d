import { Counter, type Registry } from 'prom-client';

/** Kinds of the exporter's own failures, as opposed to the servers' (probe reasons). */
export type ExporterErrorKind = 'fd_exhausted';

/** imap_exporter_errors_total{kind}: failures of the exporter itself, each also logged at error. */
export function exporterErrorsCounter(registry: Registry): Counter<'kind'> {
  const counter = new Counter({
    name: 'imap_exporter_errors_total',
    help: "Failures of the exporter itself (kind fd_exhausted: it ran out of file descriptors); such probes are not recorded, since they say nothing about the server.",
    labelNames: ['kind'],
    registers: [registry],
  });
  counter.inc({ kind: 'fd_exhausted' }, 0);
  return counter;
}
