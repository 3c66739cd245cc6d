import type { Request, RequestHandler } from 'express';
import { PROBE_CONTENT_TYPE, probeExposition } from '../../metrics/probe-registry.js';
import { formatProbeReport } from '../../probe/report.js';
import { formatTranscript } from '../../probe/transcript.js';
import { ProbeSlotsBusyError } from '../../probe/slots.js';
import type { ProbeJob, ProbeResult } from '../../probe/types.js';
import type { AppDeps } from '../app.js';
import { findJob } from '../jobs.js';

// As blackbox_exporter: leave the scrape this much time to carry the answer back.
const SCRAPE_TIMEOUT_OFFSET_MS = 500;

/** GET /probe?target=&account=[&debug=true]: one configured probe now, the metrics of that run only. */
export function probeRoute(deps: Pick<AppDeps, 'config' | 'onDemand' | 'logger' | 'onExporterFault'>): RequestHandler {
  return async (req, res) => {
    const store = deps.config();
    if (!store) {
      res.status(503).type('text/plain').send('no config loaded yet\n');
      return;
    }
    const lookup = findJob(store.current.jobs, req.query.target, req.query.account);
    if ('error' in lookup) {
      res.status(400).type('text/plain').send(`${lookup.error}\n`);
      return;
    }
    const { job } = lookup;
    const timeoutMs = Math.min(job.spec.timeoutMs, scrapeTimeoutMs(req) ?? Infinity);
    let result: ProbeResult;
    try {
      result = await deps.onDemand.probe(job.key, { ...job.spec, timeoutMs });
    } catch (error) {
      if (!(error instanceof ProbeSlotsBusyError)) throw error;
      res.status(503).type('text/plain').send(`too many probes at once, try again later: ${error.message}\n`);
      return;
    }
    if (deps.onDemand.stopping) {
      res.status(503).type('text/plain').send('the exporter is shutting down: the probe was aborted\n');
      return;
    }
    if (result.exporterFault) {
      deps.onExporterFault?.(job, result);
      res.status(503).type('text/plain').send('the exporter ran out of file descriptors: this probe says nothing about the server (see the exporter log)\n');
      return;
    }
    const metrics = probeExposition(job, result);
    if (result.failure) {
      const { stage, reason } = result.failure;
      deps.logger.info({ target: job.target, account: job.account, phase: stage, reason, on_demand: true }, 'on-demand probe failed');
    }
    if (req.query.debug === 'true') {
      res.type('text/plain').send(debugText(job, result, metrics, timeoutMs));
    } else {
      res.type(PROBE_CONTENT_TYPE).send(metrics);
    }
  };
}

function scrapeTimeoutMs(req: Request): number | undefined {
  const header = req.get('X-Prometheus-Scrape-Timeout-Seconds');
  const seconds = header === undefined ? NaN : Number(header);
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.max(100, seconds * 1000 - SCRAPE_TIMEOUT_OFFSET_MS);
}

function debugText(job: ProbeJob, result: ProbeResult, metrics: string, timeoutMs: number): string {
  const { spec } = job;
  const who = job.account ? `account ${job.account}` : 'no account (unauthenticated)';
  const cut = timeoutMs < spec.timeoutMs ? ` (configured ${spec.timeoutMs / 1000}s, cut by the scrape timeout header)` : '';
  return [
    `Probe of target ${job.target} (${spec.host}:${spec.port}, tls ${spec.tls}), ${who}, timeout ${timeoutMs / 1000}s${cut}`,
    `Started ${new Date(result.startedAt).toISOString()}`,
    '',
    formatProbeReport(result),
    '',
    'Transcript (passwords and AUTHENTICATE payloads shown as ***):',
    formatTranscript(result.transcript),
    '',
    'Metrics that would have been returned:',
    metrics,
  ].join('\n');
}
