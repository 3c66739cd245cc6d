import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ConfigStore } from '../config/store.js';
import type { Logger } from '../log.js';
import type { TextRegistry } from '../metrics/exposition.js';
import type { OnDemandProber } from '../probe/on-demand.js';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { ResultStore } from '../scheduler/results.js';
import type { Shard } from '../scheduler/shard.js';
import { BackgroundGzip } from './gzip-stream.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { probeRoute, reply } from './routes/probe.js';
import { reloadRoute } from './routes/reload.js';
import { statusRoute, transcriptRoute } from './routes/status.js';

export interface AppDeps {
  registry: TextRegistry;
  /** undefined until the first config is loaded (/-/ready answers 503 until then). */
  config: () => ConfigStore | undefined;
  /** Reloads the config (as SIGHUP does); resolves with the error text on failure. */
  reload: () => Promise<{ ok: true; changed: boolean } | { ok: false; error: string }>;
  results: ResultStore;
  /** The jobs the schedule runs: this shard's share of the config's; default all of them. /probe takes any configured job. */
  scheduledJobs?: () => readonly ProbeJob[];
  /** --shard.index/--shard.count, for the status page; default 0 of 1. */
  shard?: Shard;
  onDemand: OnDemandProber;
  /** A probe the exporter itself failed (ProbeResult.exporterFault): logs and counts it. */
  onExporterFault?: (job: ProbeJob, result: ProbeResult) => void;
  nextRunAt: (key: string) => number | undefined;
  logger: Logger;
  version: string;
  now?: () => number;
  /** Runs before every route: --web.config.file's headers and basic auth. */
  guard?: Guard;
}

/** Middleware on node:http's own request and response, so it can run before express and before /probe alike. */
export type Guard = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * zlib's fastest level: on 50 MB of exposition text it takes a third of the default
 * level's CPU (0.2 s against 0.57 s at 10,000 jobs) for a body 30 % larger (3.0 MB
 * against 2.3 MB); the text is so repetitive that even level 1 shrinks it 18-fold.
 */
const METRICS_GZIP_LEVEL = 1;

/**
 * The HTTP surface of CONTRACT §5, built from its dependencies so tests can drive it.
 * GET /probe goes straight to its handler (see routes/probe.ts), after the guard;
 * everything else, /probe spelt otherwise included (/probe/, /PROBE), goes through express.
 */
export function createApp(deps: AppDeps): RequestListener {
  const app = expressApp(deps);
  const probe = probeRoute(deps);
  const failed = handlerFailed(deps);
  return (req, res) => {
    if (!isProbeRequest(req)) {
      app(req, res);
      return;
    }
    const run = (error?: unknown) => {
      if (error) failed(error, '/probe', res);
      else probe(req, res).catch((e: unknown) => failed(e, '/probe', res));
    };
    if (deps.guard) deps.guard(req, res, run);
    else run();
  };
}

function isProbeRequest(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  return (req.method === 'GET' || req.method === 'HEAD') && (url === '/probe' || url.startsWith('/probe?'));
}

function handlerFailed(deps: AppDeps): (error: unknown, path: string, res: ServerResponse) => void {
  return (error, path, res) => {
    deps.logger.error({ err: error, path }, 'HTTP handler failed');
    if (!res.headersSent) reply(res, 500, 'text/plain; charset=utf-8', 'internal error: see the exporter log\n');
  };
}

function expressApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Every response is fresh; hashing a 26 MB /metrics body for an ETag costs ~25 ms per scrape.
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (deps.guard) app.use(deps.guard);
  // /metrics for thousands of jobs is megabytes of text, and Prometheus asks for gzip.
  // A /probe answer is a few kilobytes on a scrape from nearby: compressing it cost
  // more CPU (~0.3 ms) than the rest of the HTTP side of a probe.
  const compressed = compression({ level: METRICS_GZIP_LEVEL });
  // /metrics has its own, on a thread below the event loop's priority (gzip-stream.ts).
  app.get('/metrics', metricsRoute(deps, new BackgroundGzip(METRICS_GZIP_LEVEL)));
  const probe = probeRoute(deps);
  app.get('/probe', (req, res, next) => void probe(req, res).catch(next));
  app.get('/', compressed, statusRoute(deps));
  app.get('/transcript', transcriptRoute(deps));
  app.use('/-', healthRoutes(deps));
  app.post('/-/reload', reloadRoute(deps));
  app.use((req: Request, res: Response) => {
    res.status(404).type('text/plain').send(`404 page not found: ${req.method} ${req.path}\n`);
  });
  const failed = handlerFailed(deps);
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => failed(error, req.path, res));
  return app;
}
