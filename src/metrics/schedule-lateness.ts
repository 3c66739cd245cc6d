import { Histogram, type Registry } from 'prom-client';

/** From "on time" (a timer fires a millisecond or two late) up to a whole interval behind. */
const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * imap_exporter_schedule_lateness_seconds: how long after its slot each scheduled probe
 * started. A busy event loop (a scrape that does not yield, a garbage collection) makes
 * timers fire late, and a full --probe.concurrency makes runs wait: either way the
 * probes drift off the spread schedule, which nothing else in /metrics shows.
 */
export function scheduleLatenessHistogram(registry: Registry): Histogram {
  return new Histogram({
    name: 'imap_exporter_schedule_lateness_seconds',
    help: 'How long after its scheduled slot each probe started (timer delay and wait for a --probe.concurrency slot together).',
    buckets: LATENESS_BUCKETS,
    registers: [registry],
  });
}
