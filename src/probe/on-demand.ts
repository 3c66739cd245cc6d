import { runProbe } from './run-probe.js';
import type { ProbeResult, ProbeSpec, RunProbe } from './types.js';

/**
 * Probes run on request (/probe). Concurrent requests for the same job share one
 * run, so a burst of scrapes cannot multiply logins against a test account.
 */
export class OnDemandProber {
  private readonly running = new Map<string, Promise<ProbeResult>>();
  private readonly shutdown = new AbortController();

  constructor(private readonly run: RunProbe = runProbe) {}

  probe(key: string, spec: ProbeSpec): Promise<ProbeResult> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const run = this.run(spec, { signal: this.shutdown.signal }).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return run;
  }

  /** Aborts every run in flight (exporter shutting down). */
  abortAll(): void {
    this.shutdown.abort();
  }
}
