import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Deadline } from '../../src/probe/deadline.js';
import { DeadlineExceededError } from '../../src/probe/errors.js';

const never = () => new Promise<never>(() => undefined);

describe('Deadline.race', () => {
  // The deadline's timer is unref'd (it must not keep a process alive): this keeps the test's.
  let alive: NodeJS.Timeout;
  beforeEach(() => (alive = setInterval(() => undefined, 1_000)));
  afterEach(() => clearInterval(alive));

  it('settles like the work while the budget lasts', async () => {
    const deadline = new Deadline(60_000);
    try {
      assert.equal(await deadline.race(Promise.resolve(7)), 7);
      await assert.rejects(deadline.race(Promise.reject(new Error('no'))), /no/);
    } finally {
      deadline.clear();
    }
  });

  it('cuts off every race still waiting when the budget runs out, and any race after', async () => {
    const deadline = new Deadline(5);
    const waiting = [deadline.race(never()), deadline.race(never()), deadline.race(never())];
    for (const race of waiting) await assert.rejects(race, DeadlineExceededError);
    assert.equal(deadline.expired, true);
    assert.equal(deadline.aborted, false);
    await assert.rejects(deadline.race(Promise.resolve(1)), DeadlineExceededError);
    deadline.clear();
  });

  it('a race already settled is not cut off later', async () => {
    const deadline = new Deadline(5);
    assert.equal(await deadline.race(Promise.resolve('done')), 'done');
    await assert.rejects(deadline.race(never()), DeadlineExceededError);
    deadline.clear();
  });

  it('the caller’s abort cuts off the races too, and says so', async () => {
    const caller = new AbortController();
    const deadline = new Deadline(60_000, caller.signal);
    const race = deadline.race(never());
    caller.abort();
    await assert.rejects(race, DeadlineExceededError);
    assert.equal(deadline.aborted, true);
    deadline.clear();
  });
});
