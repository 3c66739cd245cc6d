import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionClosedError } from '../../src/imap/errors.js';

describe('ConnectionClosedError', () => {
  it('keeps message, cause and what it closed under, and leaves the stack limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const cause = new Error('ECONNRESET');
    const under = { command: 'SELECT', firstAfterLogin: true };
    const error = new ConnectionClosedError('connection error: ECONNRESET', { cause, under });
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ConnectionClosedError');
    assert.equal(error.message, 'connection error: ECONNRESET');
    assert.equal(error.cause, cause);
    assert.deepEqual(error.under, under);
    assert.equal(Error.stackTraceLimit, limit);
    assert.match(String(error.stack), /^ConnectionClosedError: connection error: ECONNRESET/);
  });
});
