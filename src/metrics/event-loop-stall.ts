import { performance } from 'node:perf_hooks';
import type { CpuWaitClock } from './cpu-wait.js';

export interface StallMonitorOptions {
  /** How often the timer is due; a stall shorter than this is not seen. Default 10 ms. */
  intervalMs?: number;
  /** How far back longestSeconds() looks. Default 60 s. */
  windowMs?: number;
  now?: () => number;
  /** This thread's run-queue wait so far (cpu-wait.ts); omitted, stalls are not split. */
  cpuWait?: CpuWaitClock;
}

/** A stall, and how much of it the thread was runnable but got no CPU. */
export interface Stall {
  seconds: number;
  /** Undefined without a cpuWait clock. */
  cpuWaitSeconds?: number;
}

interface SliceStall {
  lateMs: number;
  waitMs: number;
}

/**
 * Measures how long the event loop was blocked: a timer due every `intervalMs`
 * records by how much it fired late. prom-client's nodejs_eventloop_lag_seconds times
 * one setImmediate at scrape time, and its percentiles reset at every scrape, so a
 * single 0.5 s stall between two scrapes (or caused by one) can go unseen. The
 * longest stall is kept per tenth of the window, so "the last 60 s" needs no list of
 * every tick and several scrapers reading it do not reset each other.
 *
 * With a cpuWait clock each stall is split: the part the thread was runnable but got
 * no CPU (other processes, a cgroup CPU limit) is not the exporter's own work, and
 * telling the two apart is what says whether to fix the exporter or give it a core.
 */
export class EventLoopStallMonitor {
  readonly #intervalMs: number;
  readonly #sliceMs: number;
  readonly #now: () => number;
  readonly #cpuWait: CpuWaitClock | undefined;
  /** Longest stall per slice of the window, keyed by slice number (time / sliceMs). */
  readonly #slices = new Map<number, SliceStall>();
  #last: number;
  #lastWait: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StallMonitorOptions = {}) {
    this.#intervalMs = options.intervalMs ?? 10;
    this.#sliceMs = (options.windowMs ?? 60_000) / 10;
    this.#now = options.now ?? (() => performance.now());
    this.#cpuWait = options.cpuWait;
    this.#last = this.#now();
    this.#lastWait = this.#cpuWait?.() ?? 0;
  }

  start(): void {
    if (this.#timer) return;
    this.#last = this.#now();
    this.#lastWait = this.#cpuWait?.() ?? 0;
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
    const wait = this.#cpuWait?.() ?? 0;
    const stall = this.#sinceLastTick(now, wait);
    this.#last = now;
    this.#lastWait = wait;
    const slice = Math.floor(now / this.#sliceMs);
    if (stall.lateMs > (this.#slices.get(slice)?.lateMs ?? 0)) this.#slices.set(slice, stall);
    this.#prune(slice);
  }

  /** The longest stall within the window, in seconds; a stall still going on counts from the last tick. */
  longestSeconds(): number {
    return this.longest().seconds;
  }

  /** The longest stall within the window, with its wait for a CPU when that is known. */
  longest(): Stall {
    const now = this.#now();
    this.#prune(Math.floor(now / this.#sliceMs));
    let longest = this.#sinceLastTick(now, this.#cpuWait?.() ?? 0);
    for (const stall of this.#slices.values()) if (stall.lateMs > longest.lateMs) longest = stall;
    const seconds = longest.lateMs / 1000;
    return this.#cpuWait ? { seconds, cpuWaitSeconds: longest.waitMs / 1000 } : { seconds };
  }

  /** How late a tick now is, and how much of the time since the last one the thread waited for a CPU (at most the lateness). */
  #sinceLastTick(now: number, wait: number): SliceStall {
    const lateMs = Math.max(0, now - this.#last - this.#intervalMs);
    return { lateMs, waitMs: Math.min(lateMs, Math.max(0, wait - this.#lastWait)) };
  }

  #prune(current: number): void {
    for (const slice of this.#slices.keys()) if (slice <= current - 10) this.#slices.delete(slice);
  }
}
