import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { Clock, TimerHandle } from './clock.js';
import { RunPool, type SchedulerLogger, type SchedulerRunProbe, type SharedSlots } from './run-pool.js';
import { nextAlignedAt, phaseOffsetMs } from './spread.js';

export { RunAbortedError, type AbortWhy, type SchedulerLogger, type SchedulerRunProbe, type SharedSlots } from './run-pool.js';

export type SkipReason = 'overlap';

export interface SchedulerOptions {
  clock: Clock;
  runProbe: SchedulerRunProbe;
  /** At most this many runProbe calls in flight; the rest wait FIFO. */
  concurrency: number;
  /** A budget shared with /probe: a run also needs a slot from it (it gets freed slots first). */
  slots?: SharedSlots;
  onResult: (job: ProbeJob, result: ProbeResult) => void;
  onSkip?: (job: ProbeJob, why: SkipReason) => void;
  /** As each run starts, how many ms after its slot (imap_exporter_schedule_lateness_seconds). */
  onStart?: (job: ProbeJob, lateMs: number) => void;
  logger?: SchedulerLogger;
  /** Added to spec.timeoutMs before the scheduler aborts a run itself. Default 1000. */
  deadlineGraceMs?: number;
  /** How long an aborted run may take to settle before its slot is reclaimed. Default 2000. */
  abandonAfterMs?: number;
}

export interface StopOptions {
  /** How long in-flight runs may finish on their own before they are aborted. */
  graceMs: number;
}

export interface ReloadSummary {
  added: number;
  removed: number;
  /** Kept, but their interval changed. */
  rescheduled: number;
  /** Kept on their schedule; a new spec applies from their next run. */
  kept: number;
}

/** A backwards wall-clock step larger than this realigns the schedule rather than waiting it out. */
const CLOCK_STEP_TOLERANCE_MS = 1000;

interface JobState {
  job: ProbeJob;
  offsetMs: number;
  /** Epoch ms of the next run; the timer is armed for it. */
  dueAt: number;
  timer: TimerHandle | undefined;
}

const silentLogger: SchedulerLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs every job each intervalMs at a stable, wall-clock-aligned phase (hash of its key),
 * never two runs of one job at once, at most `concurrency` at a time. A runProbe that
 * rejects delivers nothing: the engine promises never to reject, so that is a bug to log,
 * not a probe failure to record against a stage.
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly onSkip: NonNullable<SchedulerOptions['onSkip']>;
  private readonly log: SchedulerLogger;
  private readonly pool: RunPool;
  private readonly jobs = new Map<string, JobState>();
  private stopped: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    const { concurrency } = options;
    if (!(concurrency >= 1) || (!Number.isInteger(concurrency) && concurrency !== Infinity)) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.clock = options.clock;
    this.onSkip = options.onSkip ?? (() => {});
    this.log = options.logger ?? silentLogger;
    this.pool = new RunPool({
      clock: options.clock,
      runProbe: options.runProbe,
      concurrency,
      ...(options.slots && { slots: options.slots }),
      onResult: options.onResult,
      onStart: options.onStart,
      log: this.log,
      deadlineGraceMs: options.deadlineGraceMs ?? 1000,
      abandonAfterMs: options.abandonAfterMs ?? 2000,
    });
  }

  /** The initial job set and every reload. Throws on a duplicate key or a bad interval, changing nothing. */
  setJobs(jobs: readonly ProbeJob[]): ReloadSummary {
    const summary: ReloadSummary = { added: 0, removed: 0, rescheduled: 0, kept: 0 };
    if (this.stopped) {
      this.log.warn({ jobs: jobs.length }, 'scheduler stopped; job set ignored');
      return summary;
    }
    const incoming = validated(jobs);
    for (const [key, state] of this.jobs) {
      if (incoming.has(key)) continue;
      this.cancelTimer(state);
      this.jobs.delete(key);
      this.pool.cancel(key, 'removed');
      summary.removed += 1;
    }
    for (const job of incoming.values()) {
      const state = this.jobs.get(job.key);
      if (state === undefined) {
        const fresh: JobState = { job, offsetMs: 0, dueAt: 0, timer: undefined };
        this.jobs.set(job.key, fresh);
        this.startSchedule(fresh);
        summary.added += 1;
      } else if (state.job.intervalMs !== job.intervalMs) {
        this.cancelTimer(state);
        state.job = job;
        this.startSchedule(state);
        summary.rescheduled += 1;
      } else {
        state.job = job; // picked up by its next run; a queued run starts with it too
        summary.kept += 1;
      }
    }
    this.log.debug({ ...summary }, 'scheduler job set applied');
    return summary;
  }

  /** Runs holding a concurrency slot. */
  inFlight(): number {
    return this.pool.inFlight();
  }

  /** Runs waiting for a slot. */
  queued(): number {
    return this.pool.queued();
  }

  /** Epoch ms of the job's next scheduled run; undefined for an unknown key or once stopped. */
  nextRunAt(key: string): number | undefined {
    return this.jobs.get(key)?.dueAt;
  }

  /**
   * Stops scheduling, drops queued runs, lets in-flight runs finish (and deliver) for
   * graceMs, then aborts them and drops their results. Resolves once every run settled or
   * was abandoned; no timer is left behind. Idempotent.
   */
  stop(options: StopOptions = { graceMs: 5000 }): Promise<void> {
    if (this.stopped) return this.stopped;
    for (const state of this.jobs.values()) this.cancelTimer(state);
    this.jobs.clear();
    this.stopped = this.pool.drain(options.graceMs);
    return this.stopped;
  }

  private startSchedule(state: JobState): void {
    const { key, intervalMs } = state.job;
    state.offsetMs = phaseOffsetMs(key, intervalMs);
    this.arm(state, nextAlignedAt(this.clock.now(), state.offsetMs, intervalMs));
  }

  private arm(state: JobState, dueAt: number): void {
    state.dueAt = dueAt;
    const delayMs = Math.max(0, dueAt - this.clock.now());
    state.timer = this.clock.setTimeout(() => this.onDue(state), delayMs);
  }

  private cancelTimer(state: JobState): void {
    if (state.timer !== undefined) this.clock.clearTimeout(state.timer);
    state.timer = undefined;
  }

  private onDue(state: JobState): void {
    state.timer = undefined;
    if (this.stopped || this.jobs.get(state.job.key) !== state) return;
    const dueAt = state.dueAt;
    this.arm(state, this.followingRun(state));
    if (this.pool.submit(state.job.key, () => state.job, dueAt)) return;
    const job = state.job;
    this.log.warn(
      { job: job.key, inFlight: this.pool.inFlight(), queued: this.pool.queued() },
      'previous run still in flight or queued; run skipped',
    );
    try {
      this.onSkip(job, 'overlap');
    } catch (error) {
      this.log.error({ job: job.key, err: error }, 'onSkip threw');
    }
  }

  /**
   * The run after the one now due: one interval on. After a stall of a whole interval or a
   * wall-clock step, the first slot of the job's phase at least one interval away: missed
   * runs are not replayed, and no two runs come closer than an interval (a login probe
   * must not hammer an account).
   */
  private followingRun(state: JobState): number {
    const { intervalMs, key } = state.job;
    const now = this.clock.now();
    const next = state.dueAt + intervalMs;
    if (next > now && next - now <= intervalMs + CLOCK_STEP_TOLERANCE_MS) return next;
    this.log.debug({ job: key, lateMs: now - state.dueAt }, 'stalled or wall clock stepped; realigning');
    return nextAlignedAt(now + intervalMs, state.offsetMs, intervalMs);
  }
}

function validated(jobs: readonly ProbeJob[]): Map<string, ProbeJob> {
  const byKey = new Map<string, ProbeJob>();
  for (const job of jobs) {
    if (byKey.has(job.key)) throw new Error(`duplicate job key: ${job.key}`);
    if (!Number.isSafeInteger(job.intervalMs) || job.intervalMs <= 0) {
      throw new RangeError(`job ${job.key}: intervalMs must be a positive integer, got ${job.intervalMs}`);
    }
    byKey.set(job.key, job);
  }
  return byKey;
}
