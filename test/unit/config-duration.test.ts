import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

const VALID: [string, number][] = [
  ['0', 0],
  ['0s', 0],
  ['500ms', 500],
  ['30s', 30_000],
  ['5m', 300_000],
  ['1h', 3_600_000],
  ['1h30m', 5_400_000],
  ['1m30s500ms', 90_500],
  ['1d', 86_400_000],
  ['2w', 14 * 86_400_000],
  ['1y', 365 * 86_400_000],
  ['90s', 90_000],
];

const INVALID = ['', '10 seconds', '1.5s', '-1s', '5', '1s1m', '1h1h', '1H', ' 1s', '1s ', 's', 'ms', '1us', '1m30'];

for (const [text, ms] of VALID) {
  test(`parseDuration(${JSON.stringify(text)}) is ${ms}ms`, () => {
    assert.equal(parseDuration(text), ms);
  });
}

for (const text of INVALID) {
  test(`parseDuration(${JSON.stringify(text)}) says what a duration looks like`, () => {
    assert.throws(() => parseDuration(text), {
      message: `expected a duration like 500ms, 30s, 5m, 1h, got ${JSON.stringify(text)}`,
    });
  });
}

test('parseDuration rejects amounts past the safe integer range', () => {
  assert.throws(() => parseDuration('99999999999999999y'), /too long/);
});

test('formatDuration prints as Prometheus does and round-trips', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(86_400_000 + 1_000), '1d1s');
  for (const [text, ms] of VALID) {
    if (ms > 0) assert.equal(parseDuration(formatDuration(ms)), ms, text);
  }
});
