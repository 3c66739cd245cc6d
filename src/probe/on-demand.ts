import { setMaxListeners } from 'node:events';
import { runProbe } from './run-probe.js';
import { ProbeSlots } from './slots.js';
import type { ProbeResult, ProbeSpec, RunProbe } from './types.js';

/**
 * Probes run on request (/probe). Concurrent requests for the same job share one
 * run, so a burst of scrapes cannot multiply logins against a test account; every run
 * takes a slot from the budget it shares with the schedule (slots.ts).
 */
export class OnDemandProber {
  private readonly running = new Map<string, Promise<ProbeResult>>();
  private readonly shutdown = new AbortController();

  constructor(
    private readonly run: RunProbe = runProbe,
    private readonly slots: ProbeSlots = new ProbeSlots(Infinity, 0),
  ) {
    // Every probe in flight listens on this one signal: bounded by the slots, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  /** Rejects with ProbeSlotsBusyError when no slot is free in time (the route answers 503). */
  probe(key: string, spec: ProbeSpec): Promise<ProbeResult> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const run = this.slots
      .runOnDemand(spec.timeoutMs, (waitedMs) =>
        this.run({ ...spec, timeoutMs: Math.max(1, Math.round(spec.timeoutMs - waitedMs)) }, { signal: this.shutdown.signal }))
      .finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** True once the exporter is shutting down: runs are aborted and their results are not answers. */
  get stopping(): boolean {
    return this.shutdown.signal.aborted;
  }

  /** Aborts every run in flight (exporter shutting down). */
  abortAll(): void {
    this.shutdown.abort();
  }
}
