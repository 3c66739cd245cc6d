import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { Clock, TimerHandle } from './clock.js';
import { Fifo } from '../fifo.js';

/** How the scheduler runs one job; main adapts the engine's RunProbe to this. */
export type SchedulerRunProbe = (job: ProbeJob, signal: AbortSignal) => Promise<ProbeResult>;

/** The subset of pino the scheduler uses. */
export interface SchedulerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type AbortWhy = 'deadline' | 'removed' | 'stopping';

/** The `reason` of a signal the scheduler aborted. */
export class RunAbortedError extends Error {
  constructor(readonly why: AbortWhy) {
    super(`probe run aborted by the scheduler: ${why}`);
    this.name = 'AbortError';
  }
}

/**
 * A budget of probes in flight that the schedule shares with others (/probe, probe/slots.ts):
 * a run starts only with a slot from it, and a slot coming free is offered to the schedule first.
 */
export interface SharedSlots {
  tryAcquire(): boolean;
  release(): void;
  /** `listener` is called whenever a slot comes free, before anyone else may take it. */
  onFree(listener: () => void): void;
}

export interface RunPoolOptions {
  clock: Clock;
  runProbe: SchedulerRunProbe;
  concurrency: number;
  /** Also needed to start a run; undefined: only `concurrency` bounds the pool. */
  slots?: SharedSlots;
  onResult: (job: ProbeJob, result: ProbeResult) => void;
  /** As a run starts: how late (ms) against its slot, timer delay and wait for a free slot together. */
  onStart?: (job: ProbeJob, lateMs: number) => void;
  log: SchedulerLogger;
  deadlineGraceMs: number;
  abandonAfterMs: number;
}

interface Run {
  key: string;
  /** Read when a slot frees up, so a queued run starts with the latest spec. */
  currentJob: () => ProbeJob;
  job: ProbeJob | undefined;
  /** Epoch ms of the slot it was due in. */
  dueAt: number;
  controller: AbortController;
  phase: 'queued' | 'running' | 'done';
  /** Its result, if any, is not delivered: job removed, exporter stopping, or abandoned. */
  cancelled: boolean;
  deadline: TimerHandle | undefined;
  abandon: TimerHandle | undefined;
}

/**
 * At most `concurrency` runs in flight, the rest FIFO, at most one run per job key.
 * Each run is bounded: aborted at spec.timeoutMs + deadlineGraceMs, and its slot reclaimed
 * abandonAfterMs after any abort even if runProbe ignores the signal.
 */
export class RunPool {
  /** Queued or running runs by job key; an aborted run stays until it settles. */
  private readonly active = new Map<string, Run>();
  private readonly queue = new Fifo<Run>();
  private queuedCount = 0;
  private runningCount = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: RunPoolOptions) {
    o.slots?.onFree(() => this.pump());
  }

  inFlight(): number {
    return this.runningCount;
  }

  queued(): number {
    return this.queuedCount;
  }

  /** Queues a run of the job due at `dueAt`; false, and nothing queued, while the key has a run queued or in flight. */
  submit(key: string, currentJob: () => ProbeJob, dueAt: number): boolean {
    if (this.closed || this.active.has(key)) return false;
    const run: Run = {
      key,
      currentJob,
      job: undefined,
      dueAt,
      controller: new AbortController(),
      phase: 'queued',
      cancelled: false,
      deadline: undefined,
      abandon: undefined,
    };
    this.active.set(key, run);
    this.queue.push(run);
    this.queuedCount += 1;
    this.pump();
    return true;
  }

  /** Drops a queued run, or aborts a running one; either way its result is not delivered. */
  cancel(key: string, why: Exclude<AbortWhy, 'deadline'>): void {
    const run = this.active.get(key);
    if (run !== undefined) this.abort(run, why);
  }

  /**
   * Starts nothing more and drops the queue; lets running runs finish for graceMs, then
   * aborts them. Resolves once every run settled or was abandoned.
   */
  async drain(graceMs: number): Promise<void> {
    this.closed = true;
    for (const run of [...this.active.values()]) {
      if (run.phase === 'queued') this.abort(run, 'stopping');
    }
    this.queue.clear();
    if (await this.waitIdle(graceMs)) return;
    const left = [...this.active.values()];
    this.o.log.warn({ runs: left.length, graceMs }, 'aborting probe runs still in flight at stop');
    for (const run of left) this.abort(run, 'stopping');
    // Every aborted run settles or is abandoned within abandonAfterMs, so this ends.
    await this.waitIdle(Infinity);
  }

  /** True once nothing is in flight, false if timeoutMs passed first. */
  private waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.runningCount === 0 || timeoutMs <= 0) return Promise.resolve(this.runningCount === 0);
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const onIdle = (): void => {
        if (timer !== undefined) this.o.clock.clearTimeout(timer);
        resolve(true);
      };
      if (Number.isFinite(timeoutMs)) {
        timer = this.o.clock.setTimeout(() => {
          this.idleWaiters = this.idleWaiters.filter((waiter) => waiter !== onIdle);
          resolve(false);
        }, timeoutMs);
      }
      this.idleWaiters.push(onIdle);
    });
  }

  private pump(): void {
    while (!this.closed && this.runningCount < this.o.concurrency) {
      const run = this.queue.peek();
      if (run === undefined) return;
      if (run.phase !== 'queued') {
        this.queue.shift(); // cancelled while it waited
        continue;
      }
      if (this.o.slots && !this.o.slots.tryAcquire()) return; // pumped again when a slot comes free
      this.queue.shift();
      this.queuedCount -= 1;
      this.start(run);
    }
  }

  private start(run: Run): void {
    const { clock, log, runProbe } = this.o;
    const job = run.currentJob();
    run.phase = 'running';
    run.job = job;
    this.runningCount += 1;
    try {
      this.o.onStart?.(job, Math.max(0, clock.now() - run.dueAt)); // a wall clock stepped back is not "early"
    } catch (error) {
      log.error({ job: run.key, err: error }, 'onStart threw');
    }
    const limitMs = job.spec.timeoutMs + this.o.deadlineGraceMs;
    run.deadline = clock.setTimeout(() => {
      run.deadline = undefined;
      log.warn({ job: run.key, limitMs }, 'probe run outlived its deadline; aborting');
      this.abort(run, 'deadline');
    }, limitMs);
    let pending: Promise<ProbeResult>;
    try {
      pending = Promise.resolve(runProbe(job, run.controller.signal));
    } catch (error) {
      pending = Promise.reject(error); // settle asynchronously like any other outcome
    }
    pending.then(
      (result) => this.settle(run, job, result, undefined),
      (error: unknown) => this.settle(run, job, undefined, error),
    );
  }

  /** Unless the scheduler's own deadline did it, an aborted run's result is not delivered. */
  private abort(run: Run, why: AbortWhy): void {
    if (why !== 'deadline') run.cancelled = true;
    if (run.phase === 'queued') {
      run.phase = 'done';
      this.queuedCount -= 1;
      this.release(run);
      return;
    }
    if (run.phase !== 'running') return;
    if (!run.controller.signal.aborted) run.controller.abort(new RunAbortedError(why));
    run.abandon ??= this.o.clock.setTimeout(() => {
      run.abandon = undefined;
      this.o.log.error({ job: run.key, abandonAfterMs: this.o.abandonAfterMs }, 'probe run ignored its abort; slot reclaimed');
      run.cancelled = true;
      this.finish(run);
    }, this.o.abandonAfterMs);
  }

  private settle(run: Run, job: ProbeJob, result: ProbeResult | undefined, error: unknown): void {
    if (run.phase !== 'running') return; // abandoned earlier
    try {
      if (result === undefined) {
        this.o.log.error({ job: run.key, err: error }, 'runProbe rejected; nothing delivered');
      } else if (!run.cancelled) {
        this.o.onResult(job, result);
      }
    } catch (callbackError) {
      this.o.log.error({ job: run.key, err: callbackError }, 'onResult threw');
    } finally {
      this.finish(run); // whatever a callback did, the slot comes back
    }
  }

  private finish(run: Run): void {
    const { clock } = this.o;
    run.phase = 'done';
    if (run.deadline !== undefined) clock.clearTimeout(run.deadline);
    if (run.abandon !== undefined) clock.clearTimeout(run.abandon);
    run.deadline = run.abandon = undefined;
    this.runningCount -= 1;
    this.release(run);
    if (this.o.slots) this.o.slots.release(); // pumps this pool first
    else this.pump();
    if (this.runningCount === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  private release(run: Run): void {
    if (this.active.get(run.key) === run) this.active.delete(run.key);
  }
}
