import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/scheduler/clock.js';
import { FakeClock } from '../fakes/fake-clock.js';

describe('FakeClock', () => {
  it('fires due timers in time order, ties in arming order, and honours clearTimeout', async () => {
    const clock = new FakeClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    const cleared = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cleared);
    assert.equal(clock.pending(), 3);
    await clock.advance(19);
    assert.deepEqual(fired, ['a@10']);
    assert.equal(clock.now(), 1_019);
    await clock.advance(1);
    assert.deepEqual(fired, ['a@10', 'b@20', 'c@20']);
    assert.equal(clock.pending(), 0);
  });

  it('runs promise callbacks between firings and fires timers armed meanwhile', async () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => undefined)
        .then(() => {
          seen.push(`then@${clock.now()}`);
          clock.setTimeout(() => seen.push(`rearmed@${clock.now()}`), 5);
        });
    }, 10);
    clock.setTimeout(() => seen.push(`second@${clock.now()}`), 12);
    await clock.advance(100);
    assert.deepEqual(seen, ['then@10', 'second@12', 'rearmed@15']);
  });

  it('moves the wall clock alone with stepWall', async () => {
    const clock = new FakeClock(0);
    let firedAt = -1;
    clock.setTimeout(() => (firedAt = clock.monotonicMs()), 100);
    clock.stepWall(-50_000);
    assert.equal(clock.now(), -50_000);
    assert.equal(clock.nextTimerAt(), -49_900);
    await clock.advance(100);
    assert.equal(firedAt, 100);
    await assert.rejects(clock.advanceTo(clock.now() - 1), RangeError);
  });
});

describe('systemClock', () => {
  it('fires and clears real timers', async () => {
    let fired = false;
    const keepAlive = setTimeout(() => {}, 10_000); // our timers are unref'd: hold the loop ourselves
    const cleared = systemClock.setTimeout(() => assert.fail('cleared timer fired'), 5);
    systemClock.clearTimeout(cleared);
    await new Promise<void>((resolve) => systemClock.setTimeout(() => resolve(void (fired = true)), 5));
    clearTimeout(keepAlive);
    assert.equal(fired, true);
    assert.ok(Math.abs(systemClock.now() - Date.now()) < 50);
    assert.ok(systemClock.monotonicMs() > 0);
  });

  it('never keeps the process alive', () => {
    const clockUrl = new URL('../../src/scheduler/clock.js', import.meta.url).href;
    const script = `import { systemClock } from '${clockUrl}';
      systemClock.setTimeout(() => { process.exitCode = 3; }, 60_000);
      systemClock.setTimeout(() => { process.exitCode = 4; }, 2 ** 33);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    assert.equal(child.status, 0, child.stderr.toString());
  });
});
