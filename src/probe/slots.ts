/**
 * One budget of probes in flight (--probe.concurrency) shared by the schedule and /probe, so
 * a burst of /probe requests cannot open more upstream connections than the limit allows.
 * Scheduled runs are already bounded by the scheduler's pool and never wait here (they have
 * the schedule to keep); they only count, so /probe gets what they leave. /probe requests
 * beyond the limit wait in a bounded queue, each at most its own deadline.
 */
export class ProbeSlotsBusyError extends Error {
  override readonly name = 'ProbeSlotsBusyError';
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export class ProbeSlots {
  #active = 0;
  readonly #waiters: Waiter[] = [];

  constructor(
    readonly limit: number,
    /** /probe requests that may wait for a slot; more are refused at once. */
    readonly maxQueued: number,
  ) {}

  get active(): number {
    return this.#active;
  }

  /** A scheduled run: starts now, holds a slot while it runs. */
  async runScheduled<T>(work: () => Promise<T>): Promise<T> {
    this.#active += 1;
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  /**
   * An on-demand run: waits for a free slot (at most `waitMs`), then runs `work` with the
   * time it waited. Rejects with ProbeSlotsBusyError when the queue is full or no slot freed in time.
   */
  async runOnDemand<T>(waitMs: number, work: (waitedMs: number) => Promise<T>): Promise<T> {
    const started = performance.now();
    if (this.#active >= this.limit) await this.#wait(waitMs);
    else this.#active += 1;
    try {
      return await work(performance.now() - started);
    } finally {
      this.#release();
    }
  }

  #wait(waitMs: number): Promise<void> {
    if (this.#waiters.length >= this.maxQueued) {
      return Promise.reject(new ProbeSlotsBusyError(`${this.limit} probes running and ${this.#waiters.length} /probe requests waiting already (the limit is --probe.concurrency)`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new ProbeSlotsBusyError(`no probe slot came free within the probe's deadline of ${waitMs} ms (${this.limit} probes running)`));
        }, waitMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Hands the slot straight to the first waiter, if any. */
  #release(): void {
    const next = this.#waiters.shift();
    if (next) next.grant();
    else this.#active -= 1;
  }
}
