import type { RequestHandler, Response } from 'express';
import type { ChunkSink } from '../../metrics/exposition.js';
import type { AppDeps } from '../app.js';
import type { BackgroundGzip } from '../gzip-stream.js';

/**
 * The latest scheduled results, rendered at scrape time: a scrape never waits for a
 * probe. Streamed as it is rendered, so the ~50 MB of 10,000 jobs never sit in memory
 * whole (as a string, a Buffer and a copy, before) and the event loop keeps turning.
 */
export function metricsRoute(deps: Pick<AppDeps, 'registry'>, gzip: BackgroundGzip): RequestHandler {
  return async (req, res) => {
    res.type(deps.registry.contentType);
    res.vary('Accept-Encoding');
    const plain = responseSink(res);
    // gzip when the scraper takes it (Prometheus always does), as the compression middleware chose.
    const gzipped = req.acceptsEncodings('gzip', 'identity') === 'gzip' ? gzip.sink(plain) : undefined;
    if (gzipped) res.set('Content-Encoding', 'gzip');
    try {
      await deps.registry.writeTo(gzipped ?? plain);
      await gzipped?.finish();
    } catch (error) {
      gzipped?.abort();
      if (error instanceof ScrapeGone) return;
      if (!res.headersSent) res.removeHeader('Content-Encoding'); // the error page is plain text
      throw error;
    }
    res.end();
  };
}

/** Thrown into the render when the scraper went away: nobody reads the rest. */
class ScrapeGone extends Error {}

/**
 * The response as a ChunkSink. The wait for 'drain' is armed in write() itself, the
 * moment write says "full": armed later, a drain that came in between would be missed
 * and the scrape would wait forever. One listener for the whole response (compression
 * moves 'drain' listeners onto its gzip stream, where removing them again fails).
 */
function responseSink(res: Response): ChunkSink {
  let gone = false;
  let waiting: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const release = (): void => {
    wake?.();
    wake = undefined;
  };
  res.on('drain', release);
  res.once('close', () => {
    gone = true;
    release();
  });
  return {
    write(chunk, release) {
      if (gone || res.destroyed) throw new ScrapeGone('the scraper closed the connection');
      // The socket holds the bytes until they are written, then the render may reuse them.
      const ok = res.write(chunk, release);
      if (!ok) waiting = new Promise((resolve) => (wake = resolve));
      return ok;
    },
    drained() {
      const next = waiting ?? Promise.resolve();
      waiting = undefined;
      return next;
    },
  };
}
