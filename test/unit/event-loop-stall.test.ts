import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopStallMonitor } from '../../src/metrics/event-loop-stall.js';

describe('event-loop stall monitor', () => {
  it('reports the longest lateness of its timer within the window, then forgets it', () => {
    let now = 1_000_000;
    const monitor = new EventLoopStallMonitor({ intervalMs: 10, windowMs: 60_000, now: () => now });
    const tickAfter = (ms: number): void => {
      now += ms;
      monitor.tick();
    };
    for (let i = 0; i < 100; i += 1) tickAfter(10);
    assert.equal(monitor.longestSeconds(), 0, 'a timer on time is no stall');
    tickAfter(510); // the loop was blocked for half a second
    for (let i = 0; i < 100; i += 1) tickAfter(11);
    assert.equal(monitor.longestSeconds(), 0.5);
    tickAfter(210);
    assert.equal(monitor.longestSeconds(), 0.5, 'a shorter stall does not hide the longer one');
    for (let i = 0; i < 6_100; i += 1) tickAfter(10); // 61 s later
    assert.equal(monitor.longestSeconds(), 0, 'out of the window');
  });

  it('counts a stall still going on when read', () => {
    let now = 0;
    const monitor = new EventLoopStallMonitor({ intervalMs: 10, now: () => now });
    now = 10;
    monitor.tick();
    now = 310; // read from inside a long synchronous task, before the timer could fire
    assert.equal(monitor.longestSeconds(), 0.29);
  });
});
