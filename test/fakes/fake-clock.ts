import type { Clock, TimerHandle } from '../../src/scheduler/clock.js';

interface FakeTimer {
  /** Monotonic ms at which it fires. */
  dueMono: number;
  /** Arming order: ties fire first-armed first, like Node's timers. */
  seq: number;
  fn: () => void;
  live: boolean;
}

function earlier(a: FakeTimer, b: FakeTimer): boolean {
  return a.dueMono < b.dueMono || (a.dueMono === b.dueMono && a.seq < b.seq);
}

/** Lets every pending promise callback run (a setImmediate turn drains the microtask queue first). */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock tests drive by hand. Timers live on the monotonic clock, as real ones do;
 * `stepWall` moves only the wall clock (an NTP step). `advance` fires due timers in
 * order and lets promise callbacks run after each firing.
 */
export class FakeClock implements Clock {
  private mono = 0;
  private wallOffset: number;
  private seq = 0;
  private liveCount = 0;
  /** Binary min-heap on (dueMono, seq); cleared timers are dropped lazily. */
  private heap: FakeTimer[] = [];
  /** Timers fired so far. */
  fired = 0;

  constructor(startEpochMs = Date.UTC(2025, 0, 1)) {
    this.wallOffset = startEpochMs;
  }

  now(): number {
    return this.mono + this.wallOffset;
  }

  monotonicMs(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) ? Math.max(0, ms) : 0;
    const timer: FakeTimer = { dueMono: this.mono + delay, seq: this.seq++, fn, live: true };
    this.push(timer);
    this.liveCount += 1;
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as unknown as FakeTimer;
    if (!timer.live) return;
    timer.live = false;
    this.liveCount -= 1;
  }

  /** Timers armed and not yet fired or cleared. */
  pending(): number {
    return this.liveCount;
  }

  /** Epoch ms of the next timer to fire, if any. */
  nextTimerAt(): number | undefined {
    this.dropCleared();
    const top = this.heap[0];
    return top === undefined ? undefined : top.dueMono + this.wallOffset;
  }

  /** Moves the wall clock alone by deltaMs (may be negative); timers are not affected. */
  stepWall(deltaMs: number): void {
    this.wallOffset += deltaMs;
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.now() + ms);
  }

  /** Fires, in order, every timer due up to epochMs (including ones armed meanwhile), then sets the time to epochMs. */
  async advanceTo(epochMs: number): Promise<void> {
    const targetMono = epochMs - this.wallOffset;
    if (targetMono < this.mono) throw new RangeError('FakeClock cannot go back in time');
    await flushPromises();
    for (;;) {
      this.dropCleared();
      const top = this.heap[0];
      if (top === undefined || top.dueMono > targetMono) break;
      this.pop();
      top.live = false;
      this.liveCount -= 1;
      this.mono = Math.max(this.mono, top.dueMono);
      this.fired += 1;
      top.fn();
      await flushPromises();
    }
    this.mono = targetMono;
    await flushPromises();
  }

  private dropCleared(): void {
    while (this.heap[0] !== undefined && !this.heap[0].live) this.pop();
  }

  private push(timer: FakeTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i] as FakeTimer, heap[parent] as FakeTimer)) break;
      [heap[i], heap[parent]] = [heap[parent] as FakeTimer, heap[i] as FakeTimer];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && earlier(heap[left] as FakeTimer, heap[least] as FakeTimer)) least = left;
      if (right < heap.length && earlier(heap[right] as FakeTimer, heap[least] as FakeTimer)) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least] as FakeTimer, heap[i] as FakeTimer];
      i = least;
    }
  }
}
