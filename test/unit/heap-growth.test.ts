import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/heap-growth.js';

test('the daemon asks V8 for its heap growing factor unless node was started with one of its own', () => {
  assert.equal(heapGrowthFlag([]), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapGrowthFlag(['--max-semi-space-size=16', '--enable-source-maps']), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  for (const own of ['--heap-growing-percent=0', '--heap_growing_percent=50', '--heap-growing-percent', '--heap_growing-percent=10']) {
    assert.equal(heapGrowthFlag(['--max-semi-space-size=16', own]), undefined, own);
  }
  assert.equal(heapGrowthFlag(['--heap-growing-percentage=5']), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, 'another flag that only starts the same');
});
