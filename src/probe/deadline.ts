import { DeadlineExceededError } from './errors.js';

/**
 * One deadline for the whole probe: every stage waits under the same budget, the
 * timer is always cleared, and whatever a stage was waiting on is cut off the
 * moment it expires (or the caller aborts, e.g. on shutdown).
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = performance.now();
  private abortedByCaller = false;
  /**
   * The rejections of the races still waiting, called on expiry. A plain set rather than
   * one abort listener per race: add/removeEventListener on an AbortSignal costs a few
   * microseconds each, and a probe races a dozen times.
   */
  private readonly racing = new Set<() => void>();
  private readonly onCallerAbort = () => {
    this.abortedByCaller = true;
    this.controller.abort();
  };

  constructor(
    readonly timeoutMs: number,
    private readonly callerSignal?: AbortSignal,
  ) {
    this.signal = this.controller.signal;
    this.signal.addEventListener('abort', () => [...this.racing].forEach((cutOff) => cutOff()), { once: true });
    this.timer = setTimeout(() => this.controller.abort(), timeoutMs);
    this.timer.unref();
    if (callerSignal?.aborted) this.onCallerAbort();
    else callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get expired(): boolean {
    return this.signal.aborted;
  }

  /** Whether expiry came from the caller's signal rather than the time budget. */
  get aborted(): boolean {
    return this.abortedByCaller;
  }

  remainingMs(): number {
    return Math.max(0, this.timeoutMs - (performance.now() - this.startedAt));
  }

  /** Settles like `work`, unless the deadline comes first. `work`'s late rejection is swallowed. */
  race<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    if (this.signal.aborted) return Promise.reject(new DeadlineExceededError('deadline exceeded'));
    return new Promise<T>((resolve, reject) => {
      const cutOff = () => reject(new DeadlineExceededError('deadline exceeded'));
      this.racing.add(cutOff);
      work.then(
        (value) => {
          this.racing.delete(cutOff);
          resolve(value);
        },
        (error: unknown) => {
          this.racing.delete(cutOff);
          reject(error);
        },
      );
    });
  }

  clear(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}
