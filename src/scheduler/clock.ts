import { performance } from 'node:perf_hooks';

declare const timerBrand: unique symbol;

/** Opaque: only the clock that armed a timer can clear it. */
export interface TimerHandle {
  readonly [timerBrand]: never;
}

/** Time as the scheduler sees it; injected so tests drive it (test/fakes/fake-clock.ts). */
export interface Clock {
  /** Wall-clock time, epoch milliseconds: what run phases are aligned to. */
  now(): number;
  /** A clock that never steps backwards, milliseconds from an arbitrary origin. */
  monotonicMs(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node clamps longer delays to 1 ms, so longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface SystemTimer {
  current: NodeJS.Timeout | undefined;
}

function arm(timer: SystemTimer, fn: () => void, remainingMs: number): void {
  const stepMs = Math.min(remainingMs, MAX_TIMER_MS);
  timer.current = setTimeout(() => {
    const leftMs = remainingMs - stepMs;
    if (leftMs > 0) arm(timer, fn, leftMs);
    else fn();
  }, stepMs);
  // A schedule alone must never keep the process alive (STYLE 12): the HTTP server does that.
  timer.current.unref();
}

/** The real clock; every timer it arms is unref()'d. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimeout(fn, ms) {
    const timer: SystemTimer = { current: undefined };
    arm(timer, fn, Number.isFinite(ms) ? Math.max(0, ms) : 0);
    return timer as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    const timer = handle as unknown as SystemTimer;
    if (timer.current !== undefined) clearTimeout(timer.current);
    timer.current = undefined;
  },
};
