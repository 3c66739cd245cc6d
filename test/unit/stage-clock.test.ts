import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StageClock } from '../../src/probe/stage-clock.js';

/** A clock whose two readings the test sets: `now` when a stage starts, `io` when its bytes came in. */
function clocks() {
  const time = { now: 0, io: 0 };
  return { time, clock: new StageClock(() => time.now, () => time.io) };
}

describe('stage clock', () => {
  it('ends a stage when its bytes came in, not when the probe got its turn', () => {
    const { time, clock } = clocks();
    time.now = 100;
    const end = clock.start('login');
    time.io = 130; // the answer's batch; the continuation runs later
    time.now = 145;
    assert.equal(end(), 0.03);
  });

  it('starts the greeting when the connection was up, not when the loop got round to it', () => {
    const { time, clock } = clocks();
    time.now = 10;
    const connected = clock.start('connect');
    time.io = 12;
    assert.equal(connected(), 0.002);
    time.now = 30; // other probes' work ran between the connect event and this stage
    const greeted = clock.start('greeting');
    time.io = 62;
    assert.equal(greeted(), 0.05);
  });

  it('starts the greeting after TLS where the handshake ended', () => {
    const { time, clock } = clocks();
    time.now = 0;
    clock.start('connect');
    time.now = 5;
    const handshake = clock.start('tls');
    time.io = 25;
    assert.equal(handshake(), 0.02);
    time.now = 40;
    const greeted = clock.start('greeting');
    time.io = 45;
    assert.equal(greeted(), 0.02);
  });

  it('starts a command stage when the command is sent, however long ago the last stage ended', () => {
    const { time, clock } = clocks();
    time.now = 0;
    const greeted = clock.start('greeting');
    time.io = 8;
    greeted();
    time.now = 20;
    const login = clock.start('login');
    time.io = 27;
    assert.equal(login(), 0.007);
  });

  it('gives a stage whose answer was already buffered no time, never a negative one', () => {
    const { time, clock } = clocks();
    time.io = 50; // the batch that delivered the answer came before the stage started
    time.now = 60;
    const select = clock.start('select');
    assert.equal(select(), 0);
  });
});
