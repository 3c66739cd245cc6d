import type { RequestHandler } from 'express';
import type { AppDeps } from '../app.js';

/** The latest scheduled results, rendered at scrape time: a scrape never waits for a probe. */
export function metricsRoute(deps: Pick<AppDeps, 'registry'>): RequestHandler {
  return async (_req, res) => {
    const text = await deps.registry.metrics();
    res.type(deps.registry.contentType).send(text);
  };
}
