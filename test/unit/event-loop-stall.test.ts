import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { openCpuWaitClock } from '../../src/metrics/cpu-wait.js';
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

  it('splits a stall into the wait for a CPU and the rest, each stall with its own wait', () => {
    let now = 0;
    let waited = 0; // the thread's run-queue wait so far, ms
    const monitor = new EventLoopStallMonitor({ intervalMs: 10, now: () => now, cpuWait: () => waited });
    const tickAfter = (ms: number, waitMs = 0): void => {
      now += ms;
      waited += waitMs;
      monitor.tick();
    };
    tickAfter(10, 4); // on time: waiting within the interval is no stall
    assert.deepEqual(monitor.longest(), { seconds: 0, cpuWaitSeconds: 0 });
    tickAfter(130, 90); // 120 ms late, 90 of them with no CPU
    assert.deepEqual(monitor.longest(), { seconds: 0.12, cpuWaitSeconds: 0.09 });
    tickAfter(60, 0); // 50 ms late, all of it the loop's own work
    assert.deepEqual(monitor.longest(), { seconds: 0.12, cpuWaitSeconds: 0.09 }, 'the longest stall keeps its own wait');
    tickAfter(200, 250); // a wait longer than the lateness counts as the whole stall
    assert.deepEqual(monitor.longest(), { seconds: 0.19, cpuWaitSeconds: 0.19 });
  });

  it('has no wait figure without a clock', () => {
    let now = 0;
    const monitor = new EventLoopStallMonitor({ intervalMs: 10, now: () => now });
    now = 100;
    monitor.tick();
    assert.deepEqual(monitor.longest(), { seconds: 0.09 });
  });
});

describe('cpu wait clock', () => {
  it('reads this thread\'s run-queue wait on Linux: it grows when busy threads outnumber the CPUs', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
    const clock = openCpuWaitClock();
    assert.ok(clock, '/proc/thread-self/schedstat is readable');
    // One busy thread per CPU besides this one: for the next 300 ms this thread competes for a CPU.
    const hogs = Array.from({ length: availableParallelism() }, () => new Worker('const end = Date.now() + 600; while (Date.now() < end);', { eval: true }));
    try {
      await Promise.all(hogs.map((hog) => once(hog, 'online')));
      const before = clock.read();
      const end = Date.now() + 300;
      while (Date.now() < end); // runnable the whole time
      // The file read just before and just after the clock: the wait only grows, so the clock's reading lies between
      // the two readings of its field (the busy threads still compete, so a later reading alone may be ms ahead).
      const schedstat = (): [number, number] => readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map((field) => Number(field) / 1e6) as [number, number];
      const [onCpuBefore, waitBefore] = schedstat();
      const after = clock.read();
      const [onCpuAfter, waitAfter] = schedstat();
      assert.ok(after > before + 10, `waited ${after - before} ms for a CPU with ${hogs.length} busy threads beside it`);
      assert.ok(
        waitBefore <= after && after <= waitAfter,
        `the run-queue field (${waitBefore}-${waitAfter} ms), not the on-CPU one (${onCpuBefore}-${onCpuAfter} ms): read ${after}`,
      );
    } finally {
      clock.close();
      await Promise.all(hogs.map((hog) => hog.terminate()));
    }
  });

  it('is undefined where the file is missing or not schedstat', () => {
    assert.equal(openCpuWaitClock('/nonexistent/schedstat'), undefined);
    assert.equal(openCpuWaitClock('/dev/null'), undefined);
  });
});
