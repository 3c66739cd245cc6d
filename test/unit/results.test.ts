import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResultStore } from '../../src/scheduler/results.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { testJob } from '../helpers/jobs.js';

const job = testJob;

function passed(endedAt: number): ProbeResult {
  return {
    target: 't',
    success: true,
    startedAt: endedAt - 100,
    endedAt,
    durationSeconds: 0.1,
    stages: [{ stage: 'connect', success: true, durationSeconds: 0.1 }],
    facts: { lists: [] },
    transcript: [],
  };
}

function failed(endedAt: number, stage: 'login' | 'connect', reason: 'auth_failed' | 'timeout'): ProbeResult {
  return {
    ...passed(endedAt),
    success: false,
    stages: [{ stage, success: false, durationSeconds: 0.1 }],
    failure: { stage, reason, hint: 'h', detail: 'd' },
    transcript: [{ atMs: 1, direction: 'S', text: 'a NO Login failed.' }],
  };
}

describe('ResultStore', () => {
  it('reports state changes against the previous result, none for the first', () => {
    const store = new ResultStore();
    const j = job('t', 'a');
    assert.deepEqual(store.record(j, passed(1000)), { changed: false });
    assert.deepEqual(store.record(j, passed(2000)), { changed: false, previous: true });
    assert.deepEqual(store.record(j, failed(3000, 'login', 'auth_failed')), { changed: true, previous: true });
    assert.deepEqual(store.record(j, failed(4000, 'login', 'auth_failed')), { changed: false, previous: false });
    assert.deepEqual(store.record(j, passed(5000)), { changed: true, previous: false });
  });

  it('counts probes and failures by (stage, reason), keeps the last success time', () => {
    const store = new ResultStore();
    const j = job('t', 'a');
    store.record(j, passed(1000));
    store.record(j, failed(2000, 'login', 'auth_failed'));
    store.record(j, failed(3000, 'login', 'auth_failed'));
    store.record(j, failed(4000, 'connect', 'timeout'));
    const state = store.get('t/a');
    assert.ok(state);
    assert.equal(state.probesTotal, 4);
    assert.equal(state.lastSuccessAt, 1000);
    assert.deepEqual(state.failures, [
      { stage: 'login', reason: 'auth_failed', count: 2 },
      { stage: 'connect', reason: 'timeout', count: 1 },
    ]);
    assert.equal(state.target, 't');
    assert.equal(state.account, 'a');
  });

  it('keeps only the latest result and the latest failed one', () => {
    const store = new ResultStore();
    const j = job('t');
    const firstFailure = failed(1000, 'connect', 'timeout');
    const secondFailure = failed(2000, 'connect', 'timeout');
    store.record(j, firstFailure);
    store.record(j, secondFailure);
    assert.equal(store.get('t')?.latest, secondFailure);
    assert.equal(store.get('t')?.lastFailure, secondFailure, 'a failed latest is the same object, not a copy');
    const pass = passed(3000);
    store.record(j, pass);
    assert.equal(store.get('t')?.latest, pass);
    assert.equal(store.get('t')?.lastFailure, secondFailure, 'the status page still shows the last failure');
    assert.equal(store.get('t')?.account, undefined);
    assert.equal('account' in (store.get('t') ?? {}), false);
  });

  it('counts skipped runs, even before the first result', () => {
    const store = new ResultStore();
    const j = job('t', 'a');
    store.recordSkipped(j);
    store.recordSkipped(j);
    assert.equal(store.get('t/a')?.skippedTotal, 2);
    assert.equal(store.get('t/a')?.latest, undefined);
    assert.equal(store.get('t/a')?.probesTotal, 0);
  });

  it('retain drops removed jobs and leaves kept ones untouched', () => {
    const store = new ResultStore();
    const kept = job('t', 'a');
    const gone = job('u');
    store.record(kept, passed(1000));
    store.record(kept, failed(2000, 'login', 'auth_failed'));
    store.recordSkipped(kept);
    store.record(gone, passed(1000));
    const before = structuredClone(store.get('t/a'));
    assert.deepEqual(store.retain([kept, job('new')]), ['u']);
    assert.equal(store.get('u'), undefined);
    assert.deepEqual(store.get('t/a'), before);
    assert.deepEqual(
      store.all().map((s) => s.key),
      ['t/a'],
    );
    assert.equal(store.size, 1);
  });

  it('tells subscribers about results and retains until they unsubscribe', () => {
    const store = new ResultStore();
    const seen: string[] = [];
    const unsubscribe = store.subscribe({
      recorded: (j, r) => seen.push(`recorded ${j.key} ${r.success}`),
      retained: (jobs, removed) => seen.push(`retained ${jobs.length} -${removed.join(',')}`),
    });
    store.record(job('t'), passed(1000));
    store.retain([]);
    unsubscribe();
    store.record(job('t'), passed(2000));
    assert.deepEqual(seen, ['recorded t true', 'retained 0 -t']);
  });
});
