import { Router } from 'express';
import type { AppDeps } from '../app.js';

/** Liveness answers as long as the process serves HTTP; readiness once a config is loaded. */
export function healthRoutes(deps: Pick<AppDeps, 'config'>): Router {
  const router = Router();
  router.get('/healthy', (_req, res) => {
    res.type('text/plain').send('imap_exporter is healthy.\n');
  });
  router.get('/ready', (_req, res) => {
    if (deps.config()) res.type('text/plain').send('imap_exporter is ready.\n');
    else res.status(503).type('text/plain').send('imap_exporter is not ready: no config loaded yet.\n');
  });
  return router;
}
