/**
 * One GET /metrics for bench/scale-run.ts, in a process of its own so that reading
 * (and gunzipping) 48 MiB can be given a lower CPU priority than the daemon, as a
 * Prometheus on another machine would be. Prints "ready", waits for a line on stdin,
 * scrapes as fast as the body comes, and prints one JSON line:
 * { start, received, end, bytes, textBytes, tail } (epoch ms: received = the body's last byte came,
 * end = its text was all out of gunzip; tail = the last TAIL_BYTES of the text).
 *   node dist/bench/scrape-once.js URL [gzip]
 */
import { once } from 'node:events';
import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const TAIL_BYTES = 256 * 1024; // the exporter's own families and prom-client's come last

const [url, mode] = process.argv.slice(2);
const gzip = mode === 'gzip';
const epochMs = (): number => performance.timeOrigin + performance.now();

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await once(lines, 'line');

const start = epochMs();
let received = NaN;
const { bytes, textBytes, tail } = await new Promise<{ bytes: number; textBytes: number; tail: string }>((resolve, reject) => {
  const req = get(`${url}/metrics`, { headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
    let bytes = 0;
    let textBytes = 0;
    // The last chunks only, as they came: no copying of the body as it streams by.
    const last: Buffer[] = [];
    let lastBytes = 0;
    const readText = (text: Readable): void => {
      text.on('data', (chunk: Buffer) => {
        textBytes += chunk.length;
        last.push(chunk);
        lastBytes += chunk.length;
        while (last.length > 1 && lastBytes - (last[0] as Buffer).length >= TAIL_BYTES) lastBytes -= (last.shift() as Buffer).length;
      });
      text.on('end', () => resolve({ bytes, textBytes, tail: Buffer.concat(last).subarray(-TAIL_BYTES).toString('utf8') }));
      text.on('error', reject);
    };
    res.on('data', (chunk: Buffer) => (bytes += chunk.length));
    // The exporter's part ends here; what gunzip still has to do is the reader's.
    res.on('end', () => (received = epochMs()));
    if (res.headers['content-encoding'] !== 'gzip') {
      readText(res);
      return;
    }
    // Gunzipped once the last byte came (a few MiB kept meanwhile), not as it streams: a
    // gunzip that falls behind holds the body back, and its speed would count as the exporter's.
    const body: Buffer[] = [];
    res.on('data', (chunk: Buffer) => body.push(chunk));
    res.on('end', () => readText(Readable.from(body).pipe(createGunzip())));
    res.on('error', reject);
  });
  req.setTimeout(120_000, () => req.destroy(new Error('/metrics: no answer in 120 s')));
  req.on('error', reject);
});
process.stdout.write(`${JSON.stringify({ start, received, end: epochMs(), bytes, textBytes, tail })}\n`);
lines.close();
