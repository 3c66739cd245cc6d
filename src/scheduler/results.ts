import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { Reason } from '../probe/reasons.js';
import type { Stage } from '../probe/stages.js';

/** How many scheduled probes of one job failed at one stage for one reason. */
export interface FailureCount {
  readonly stage: Stage;
  readonly reason: Reason;
  readonly count: number;
}

/**
 * Everything kept for one job: the latest result, the latest failed one (for the
 * status page), and the counts that accumulate. Two results at most, so thousands
 * of jobs stay small; when the latest run failed both fields hold the same object.
 */
export interface JobResults {
  readonly key: string;
  /** The `target` label value. */
  readonly target: string;
  /** The `account` label value; undefined for an unauthenticated probe. */
  readonly account?: string;
  readonly latest?: ProbeResult;
  readonly lastFailure?: ProbeResult;
  readonly probesTotal: number;
  /** One entry per (stage, reason) seen, in order of first occurrence. */
  readonly failures: readonly FailureCount[];
  /** `endedAt` (epoch ms) of the latest probe that passed; undefined until one has. */
  readonly lastSuccessAt?: number;
  /** Runs skipped because the previous run of this job was still going. */
  readonly skippedTotal: number;
  /** Grows whenever anything above changes (this object is updated in place). */
  readonly version: number;
}

/** What `record` tells the caller, so it can log a state change once. */
export interface RecordOutcome {
  /** True when the success state differs from the previous result's; false for the first result. */
  changed: boolean;
  /** The previous result's success; undefined for the job's first result. */
  previous?: boolean;
}

export interface ResultStoreListener {
  /** Called after every `record`, with the result just stored. */
  recorded?(job: ProbeJob, result: ProbeResult): void;
  /** Called after every `recordSkipped`. */
  skipped?(job: ProbeJob): void;
  /** Called after `retain` with the jobs kept and the keys dropped. */
  retained?(jobs: readonly ProbeJob[], removedKeys: readonly string[]): void;
}

interface MutableFailureCount {
  stage: Stage;
  reason: Reason;
  count: number;
}

interface MutableJobResults {
  key: string;
  target: string;
  account?: string;
  latest?: ProbeResult;
  lastFailure?: ProbeResult;
  probesTotal: number;
  failures: MutableFailureCount[];
  lastSuccessAt?: number;
  skippedTotal: number;
  version: number;
}

/**
 * The latest result of every scheduled job and what accumulates across runs, keyed by
 * `ProbeJob.key`. Results of one job arrive in order (the scheduler never overlaps runs
 * of a job). /metrics renders from here at scrape time; the status page reads `all()`.
 */
export class ResultStore {
  readonly #jobs = new Map<string, MutableJobResults>();
  readonly #listeners = new Set<ResultStoreListener>();

  record(job: ProbeJob, result: ProbeResult): RecordOutcome {
    const entry = this.#entry(job);
    const previous = entry.latest?.success;
    entry.latest = result;
    entry.probesTotal += 1;
    entry.version += 1;
    if (result.success) {
      entry.lastSuccessAt = result.endedAt;
    } else {
      entry.lastFailure = result;
      if (result.failure) countFailure(entry.failures, result.failure.stage, result.failure.reason);
    }
    for (const listener of this.#listeners) listener.recorded?.(job, result);
    return previous === undefined
      ? { changed: false }
      : { changed: previous !== result.success, previous };
  }

  /** A run was due while the previous one of the same job was still running. */
  recordSkipped(job: ProbeJob): void {
    const entry = this.#entry(job);
    entry.skippedTotal += 1;
    entry.version += 1;
    for (const listener of this.#listeners) listener.skipped?.(job);
  }

  /**
   * Drop everything for keys not among `jobs` (the new config), so no stale series or
   * status rows survive a reload; kept jobs keep their counters untouched.
   * Returns the keys dropped. A result recorded later for a dropped key (a run the
   * scheduler did not cancel) is stored again until the next retain; /metrics is not
   * affected, it renders only the jobs of the current config.
   */
  retain(jobs: readonly ProbeJob[]): string[] {
    const keep = new Set(jobs.map((job) => job.key));
    const removed: string[] = [];
    for (const key of this.#jobs.keys()) {
      if (!keep.has(key)) {
        this.#jobs.delete(key);
        removed.push(key);
      }
    }
    for (const listener of this.#listeners) listener.retained?.(jobs, removed);
    return removed;
  }

  get(key: string): JobResults | undefined {
    return this.#jobs.get(key);
  }

  /** Every job with at least one result or skipped run, in order of first appearance. */
  all(): JobResults[] {
    return [...this.#jobs.values()];
  }

  get size(): number {
    return this.#jobs.size;
  }

  /** Returns a function that unsubscribes. */
  subscribe(listener: ResultStoreListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #entry(job: ProbeJob): MutableJobResults {
    let entry = this.#jobs.get(job.key);
    if (!entry) {
      entry = { key: job.key, target: job.target, probesTotal: 0, failures: [], skippedTotal: 0, version: 0 };
      if (job.account !== undefined) entry.account = job.account;
      this.#jobs.set(job.key, entry);
    }
    return entry;
  }
}

function countFailure(failures: MutableFailureCount[], stage: Stage, reason: Reason): void {
  const existing = failures.find((f) => f.stage === stage && f.reason === reason);
  if (existing) existing.count += 1;
  else failures.push({ stage, reason, count: 1 });
}
