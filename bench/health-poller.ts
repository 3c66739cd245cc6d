/**
 * A worker thread of bench/scale-run.ts: asks GET /-/healthy every 10 ms (one request
 * at a time, on a kept-alive connection) and records each answer's latency, so the
 * bench can tell how long the daemon left a request waiting during a scrape and
 * outside one. Its own event loop, so the scrape bodies the bench reads do not delay
 * it. Times are epoch ms (timeOrigin + now), comparable across threads.
 * workerData: { url }; a 'stop' message ends it, and it posts back [sentAt, latencyMs][].
 */
import { Agent, get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const PERIOD_MS = 10;
const { url } = workerData as { url: string };
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const samples: [number, number][] = [];
let stopping = false;
const epochMs = (): number => performance.timeOrigin + performance.now();

function once(): Promise<void> {
  return new Promise((resolve) => {
    const sentAt = epochMs();
    const req = get(`${url}/-/healthy`, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        samples.push([sentAt, epochMs() - sentAt]);
        resolve();
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', () => {
      samples.push([sentAt, epochMs() - sentAt]);
      resolve();
    });
  });
}

parentPort?.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

while (!stopping) {
  const started = epochMs();
  await once();
  const wait = PERIOD_MS - (epochMs() - started);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
agent.destroy();
parentPort?.postMessage(samples);
