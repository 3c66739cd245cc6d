/**
 * One budget of probes in flight (--probe.concurrency) shared by the schedule and /probe, so
 * the exporter never has more upstream connections open than the limit, whoever asked. A
 * slot coming free goes to the schedule's queue first (it has times to keep), then to the
 * /probe requests waiting in a bounded queue, each at most its own deadline.
 */
import type { SharedSlots } from '../scheduler/run-pool.js';

export class ProbeSlotsBusyError extends Error {
  override readonly name = 'ProbeSlotsBusyError';
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export class ProbeSlots implements SharedSlots {
  #active = 0;
  readonly #waiters: Waiter[] = [];
  #onFree: () => void = () => {};

  constructor(
    readonly limit: number,
    /** /probe requests that may wait for a slot; more are refused at once. */
    readonly maxQueued: number,
  ) {}

  get active(): number {
    return this.#active;
  }

  tryAcquire(): boolean {
    if (this.#active >= this.limit) return false;
    this.#active += 1;
    return true;
  }

  release(): void {
    this.#active -= 1;
    this.#onFree(); // the schedule may take it
    if (this.#active >= this.limit) return;
    const next = this.#waiters.shift();
    if (next) {
      this.#active += 1;
      next.grant();
    }
  }

  /** The scheduler's pool: called first whenever a slot comes free. */
  onFree(listener: () => void): void {
    this.#onFree = listener;
  }

  /**
   * An on-demand run: waits for a free slot (at most `waitMs`), then runs `work` with the
   * time it waited. Rejects with ProbeSlotsBusyError when the queue is full or no slot freed in time.
   */
  async runOnDemand<T>(waitMs: number, work: (waitedMs: number) => Promise<T>): Promise<T> {
    const started = performance.now();
    if (!this.tryAcquire()) await this.#wait(waitMs);
    try {
      return await work(performance.now() - started);
    } finally {
      this.release();
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
}
