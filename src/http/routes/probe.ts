import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { PROBE_CONTENT_TYPE, probeExposition } from '../../metrics/probe-registry.js';
import { formatProbeReport } from '../../probe/report.js';
import { formatTranscript } from '../../probe/transcript.js';
import { ProbeSlotsBusyError } from '../../probe/slots.js';
import type { ProbeJob, ProbeResult } from '../../probe/types.js';
import type { AppDeps } from '../app.js';
import { findJob } from '../jobs.js';

// As blackbox_exporter: leave the scrape this much time to carry the answer back.
const SCRAPE_TIMEOUT_OFFSET_MS = 500;

const TEXT = 'text/plain; charset=utf-8';

export type ProbeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * GET /probe?target=&account=[&debug=true]: one configured probe now, the metrics of that
 * run only. Written against node:http rather than express: a Prometheus calls it once per
 * probe, and express's routing and res.send cost ~0.25 ms of CPU per request, more than
 * writing the metrics. The query is parsed as express's 'simple' parser does (querystring).
 */
export function probeRoute(deps: Pick<AppDeps, 'config' | 'onDemand' | 'logger' | 'onExporterFault'>): ProbeHandler {
  return async (req, res) => {
    const store = deps.config();
    if (!store) {
      reply(res, 503, TEXT, 'no config loaded yet\n');
      return;
    }
    const query = parseQuery(queryOf(req.url ?? ''));
    const lookup = findJob(store.current.jobs, query.target, query.account);
    if ('error' in lookup) {
      reply(res, 400, TEXT, `${lookup.error}\n`);
      return;
    }
    const { job } = lookup;
    const timeoutMs = Math.min(job.spec.timeoutMs, scrapeTimeoutMs(req) ?? Infinity);
    let result: ProbeResult;
    try {
      result = await deps.onDemand.probe(job.key, { ...job.spec, timeoutMs });
    } catch (error) {
      if (!(error instanceof ProbeSlotsBusyError)) throw error;
      reply(res, 503, TEXT, `too many probes at once, try again later: ${error.message}\n`);
      return;
    }
    if (deps.onDemand.stopping) {
      reply(res, 503, TEXT, 'the exporter is shutting down: the probe was aborted\n');
      return;
    }
    if (result.exporterFault) {
      deps.onExporterFault?.(job, result);
      reply(res, 503, TEXT, 'the exporter ran out of file descriptors: this probe says nothing about the server (see the exporter log)\n');
      return;
    }
    const metrics = probeExposition(job, result);
    if (result.failure) {
      const { stage, reason } = result.failure;
      deps.logger.info({ target: job.target, account: job.account, phase: stage, reason, on_demand: true }, 'on-demand probe failed');
    }
    if (query.debug === 'true') {
      reply(res, 200, TEXT, debugText(job, result, metrics, timeoutMs));
    } else {
      reply(res, 200, PROBE_CONTENT_TYPE, metrics);
    }
  };
}

/** The whole answer in one write; Node sets Content-Length, and sends no body to a HEAD. */
export function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.end(body);
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at + 1);
}

function scrapeTimeoutMs(req: IncomingMessage): number | undefined {
  const header = req.headers['x-prometheus-scrape-timeout-seconds'];
  const seconds = typeof header === 'string' ? Number(header) : NaN;
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
