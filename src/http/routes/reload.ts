import type { RequestHandler } from 'express';
import type { AppDeps } from '../app.js';

/** POST /-/reload: as SIGHUP; a bad file answers 500 with the error and changes nothing. */
export function reloadRoute(deps: Pick<AppDeps, 'reload'>): RequestHandler {
  return async (_req, res) => {
    const outcome = await deps.reload();
    if (outcome.ok) {
      res.type('text/plain').send(outcome.changed ? 'config reloaded\n' : 'config unchanged\n');
    } else {
      res.status(500).type('text/plain').send(`failed to reload config: ${outcome.error}\n`);
    }
  };
}
