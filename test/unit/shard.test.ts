import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStatusPage } from '../../src/http/status-page.js';
import { createMetricsRegistry } from '../../src/metrics/collector.js';
import { ResultStore } from '../../src/scheduler/results.js';
import { fnv1a32, jobsOfShard, shardOwning, UNSHARDED } from '../../src/scheduler/shard.js';
import { find, parseExposition } from '../helpers/exposition.js';
import { testJob } from '../helpers/jobs.js';

/**
 * Job keys as configs spell them, without and with an account, that differ only in their last
 * characters: plain FNV-1a spreads each kind badly (up to 30 % off at 3 shards); the finalizer fixes it.
 */
const STYLES = [(i: number) => `imap-${i}`, (i: number) => `courier-main/acc${i}`];

function keys(n: number, style = (i: number) => (i % 2 === 0 ? `imap-${i}` : `courier-main/acc${i}`)): string[] {
  return Array.from({ length: n }, (_, i) => style(i));
}

function owners(list: string[], count: number): number[] {
  return list.map((key) => shardOwning(key, count));
}

describe('shard selection (rendezvous hashing)', () => {
  it('gives every job to exactly one of N shards', () => {
    const all = keys(300).map((key, i) => testJob(key, i % 2 ? 'probe' : undefined));
    for (const count of [1, 2, 3, 5]) {
      const shares = Array.from({ length: count }, (_, index) => jobsOfShard(all, { index, count }));
      const seen = shares.flat().map((job) => job.key).sort();
      assert.deepEqual(seen, all.map((job) => job.key).sort(), `${count} shards: each job once, none lost`);
      shares.forEach((share, index) => assert.ok(share.every((job) => shardOwning(job.key, count) === index)));
    }
  });

  it('keeps config order, and with one shard every job', () => {
    const all = keys(30).map((key) => testJob(key));
    assert.deepEqual(jobsOfShard(all, UNSHARDED), all);
    const share = jobsOfShard(all, { index: 1, count: 3 });
    assert.deepEqual(share, all.filter((job) => share.includes(job)));
  });

  it('spreads 3,000 jobs roughly evenly', () => {
    for (const style of STYLES) {
      for (const count of [2, 3, 4, 7]) {
        const tally = new Array<number>(count).fill(0);
        for (const owner of owners(keys(3000, style), count)) tally[owner]! += 1;
        const expected = 3000 / count;
        // Binomial spread is about ±sqrt(expected) (±3.5 % at 3 shards); 15 % is well outside it.
        for (const [index, n] of tally.entries()) {
          const where = `${style(0)}…, ${count} shards: shard ${index} has ${n}, expected ~${expected.toFixed(0)}`;
          assert.ok(Math.abs(n - expected) < expected * 0.15, where);
        }
      }
    }
  });

  it('going from 3 to 4 shards moves about 1/4 of the jobs, all to the new shard', () => {
    const list = keys(3000);
    const before = owners(list, 3);
    const after = owners(list, 4);
    const moved = list.filter((_, i) => before[i] !== after[i]).length;
    assert.ok(moved / list.length > 0.18 && moved / list.length < 0.32, `${moved} of ${list.length} moved`);
    assert.ok(list.every((_, i) => before[i] === after[i] || after[i] === 3), 'no job moves between the old shards');
    // And back: 4 -> 3 returns exactly those jobs to where they were.
    assert.deepEqual(owners(list, 3), before);
  });

  it('is a fixed function of the key: the same owner on every call, in every version', () => {
    // FNV-1a's published test vectors: the hash is the spec's, not an implementation detail.
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    // Pinned owners: a change here reshuffles running fleets mid-rollout; it must be deliberate.
    const pinned = ['imap-0.example.com', 'mx-1/probe-1', 'courier-main/archive', 'dovecot', 'ünïcode/✓'];
    assert.deepEqual(pinned.map((key) => shardOwning(key, 3)), PINNED_OWNERS_OF_3);
    const list = keys(500);
    assert.deepEqual(owners(list, 5), owners(list, 5));
  });
});

const PINNED_OWNERS_OF_3 = [1, 1, 2, 0, 2];

describe('shard in /metrics and on the status page', () => {
  it('imap_exporter_shard_info says which shard, imap_exporter_jobs counts its share', async () => {
    const share = [testJob('a'), testJob('b', 'probe')];
    const registry = createMetricsRegistry({
      results: new ResultStore(),
      jobs: () => share,
      shard: { index: 2, count: 3 },
      buildInfo: { version: 'test', nodeVersion: 'v20.0.0' },
      reloadState: () => ({ lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1 }),
      processMetrics: false,
    });
    const samples = parseExposition(await registry.metrics());
    assert.equal(find(samples, 'imap_exporter_shard_info', { index: '2', count: '3' })?.value, 1);
    assert.equal(samples.filter((s) => s.name === 'imap_exporter_shard_info').length, 1);
    assert.equal(find(samples, 'imap_exporter_jobs')?.value, 2);
    assert.deepEqual([...new Set(samples.filter((s) => s.name === 'imap_probes_total').map((s) => s.labels.target))], ['a', 'b']);
  });

  it('the status page names the shard and its share of the config', () => {
    const view = {
      nowMs: 0,
      version: 'test',
      configPath: 'c.yaml',
      lastReloadSuccessful: true,
      jobs: [testJob('a'), testJob('b')],
      results: () => undefined,
      nextRunAt: () => undefined,
    };
    const sharded = renderStatusPage({ ...view, shard: { index: 2, count: 3, configuredJobs: 7 } });
    assert.match(sharded, /Shard 2 of 3 \(indexes 0–2\): 2 of the config's 7 probe jobs are this shard's/);
    assert.match(sharded, /"Probe now" runs any configured job here/);
    assert.doesNotMatch(renderStatusPage({ ...view, shard: { ...UNSHARDED, configuredJobs: 2 } }), /Shard/);
    assert.doesNotMatch(renderStatusPage(view), /Shard/);
  });
});
