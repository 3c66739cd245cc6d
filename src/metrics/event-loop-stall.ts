import { performance } from 'node:perf_hooks';

export interface StallMonitorOptions {
  /** How often the timer is due; a stall shorter than this is not seen. Default 10 ms. */
  intervalMs?: number;
  /** How far back longestSeconds() looks. Default 60 s. */
  windowMs?: number;
  now?: () => number;
}

/**
 * Measures how long the event loop was blocked: a timer due every `intervalMs`
 * records by how much it fired late. prom-client's nodejs_eventloop_lag_seconds times
 * one setImmediate at scrape time, and its percentiles reset at every scrape, so a
 * single 0.5 s stall between two scrapes (or caused by one) can go unseen. The
 * longest stall is kept per tenth of the window, so "the last 60 s" needs no list of
 * every tick and several scrapers reading it do not reset each other.
 */
export class EventLoopStallMonitor {
  readonly #intervalMs: number;
  readonly #sliceMs: number;
  readonly #now: () => number;
  /** Longest stall per slice of the window, keyed by slice number (time / sliceMs). */
  readonly #slices = new Map<number, number>();
  #last: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StallMonitorOptions = {}) {
    this.#intervalMs = options.intervalMs ?? 10;
    this.#sliceMs = (options.windowMs ?? 60_000) / 10;
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
  }

  start(): void {
    if (this.#timer) return;
    this.#last = this.#now();
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref(); // measuring must not keep the process alive
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The timer's callback (tests call it with a driven clock): how late this tick is. */
  tick(): void {
    const now = this.#now();
    const lateMs = Math.max(0, now - this.#last - this.#intervalMs);
    this.#last = now;
    const slice = Math.floor(now / this.#sliceMs);
    if (lateMs > (this.#slices.get(slice) ?? 0)) this.#slices.set(slice, lateMs);
    this.#prune(slice);
  }

  /** The longest stall within the window, in seconds; a stall still going on counts from the last tick. */
  longestSeconds(): number {
    const now = this.#now();
    const current = Math.floor(now / this.#sliceMs);
    this.#prune(current);
    let longest = Math.max(0, now - this.#last - this.#intervalMs);
    for (const lateMs of this.#slices.values()) longest = Math.max(longest, lateMs);
    return longest / 1000;
  }

  #prune(current: number): void {
    for (const slice of this.#slices.keys()) if (slice <= current - 10) this.#slices.delete(slice);
  }
}
