/** Which phases feed imap_probe_phase_latency_seconds (config metrics.latency_histogram.phases), and the stall gauge. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigFile } from '../../src/config/load.js';
import { createMetricsRegistry } from '../../src/metrics/collector.js';
import { STAGES, type Stage } from '../../src/probe/stages.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { ResultStore } from '../../src/scheduler/results.js';
import { parseExpositionFull } from '../helpers/exposition.js';
import { testJob } from '../helpers/jobs.js';

const job = testJob('imap', 'probe');

function passing(stages: readonly Stage[]): ProbeResult {
  return {
    target: 'imap',
    account: 'probe',
    success: true,
    startedAt: 1_760_000_000_000,
    endedAt: 1_760_000_000_100,
    durationSeconds: 0.1,
    stages: stages.map((stage) => ({ stage, success: true, durationSeconds: 0.01 })),
    facts: { lists: [] },
    transcript: [],
  };
}

function latencyPhases(text: string): string[] {
  const { samples, types } = parseExpositionFull(text);
  assert.equal(types.get('imap_probe_phase_latency_seconds'), 'histogram', 'the family is always declared');
  return [...new Set(samples.filter((s) => s.name === 'imap_probe_phase_latency_seconds_count').map((s) => s.labels.phase ?? ''))];
}

describe('latency histogram phases', () => {
  const probe = ['resolve', 'connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout'] as const;

  it('keeps every phase by default, only the chosen ones when configured, none for []', async () => {
    let phases: readonly Stage[] = STAGES;
    const results = new ResultStore();
    const registry = createMetricsRegistry({
      results,
      jobs: () => [job],
      buildInfo: { version: 't', nodeVersion: 'v20' },
      reloadState: () => ({ lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1 }),
      processMetrics: false,
      latencyPhases: () => phases,
    });
    results.record(job, passing(probe));
    assert.deepEqual(latencyPhases(await registry.metrics()), [...probe]);

    phases = ['connect', 'login']; // a reload: the other phases' series go at the next scrape
    assert.deepEqual(latencyPhases(await registry.metrics()), ['connect', 'login']);
    results.record(job, passing(probe));
    const text = await registry.metrics();
    assert.deepEqual(latencyPhases(text), ['connect', 'login']);
    const count = parseExpositionFull(text).samples.find((s) => s.name === 'imap_probe_phase_latency_seconds_count' && s.labels.phase === 'login');
    assert.equal(count?.value, 2);

    phases = [];
    results.record(job, passing(probe));
    assert.deepEqual(latencyPhases(await registry.metrics()), []);
    assert.match(await registry.metrics(), /^imap_probe_phase_success\{target="imap",account="probe",phase="list"\} 1$/m, 'the gauges stay');
  });

  it('exports the event-loop stall gauge when a monitor is wired', async () => {
    const registry = createMetricsRegistry({
      results: new ResultStore(),
      jobs: () => [job],
      buildInfo: { version: 't', nodeVersion: 'v20' },
      reloadState: () => ({ lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1 }),
      processMetrics: false,
      eventLoopStall: () => ({ seconds: 0.42, cpuWaitSeconds: 0.3 }),
    });
    const text = await registry.metrics();
    assert.match(text, /^imap_exporter_eventloop_stall_seconds 0\.42$/m);
    assert.match(text, /^imap_exporter_eventloop_stall_cpu_wait_seconds 0\.3$/m);
  });
});

describe('config metrics.latency_histogram.phases', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'imap-exporter-phases-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const load = async (metrics: string) => {
    const path = join(dir, 'c.yaml');
    await writeFile(path, `${metrics}targets:\n  - name: t\n    host: 127.0.0.1\n`);
    return loadConfigFile(path);
  };

  it('defaults to every phase, takes a list, and [] for none', async () => {
    assert.deepEqual((await load('')).config.metrics.latencyPhases, [...STAGES]);
    assert.deepEqual((await load('metrics:\n  latency_histogram:\n    phases: [login, connect]\n')).config.metrics.latencyPhases, ['login', 'connect']);
    assert.deepEqual((await load('metrics:\n  latency_histogram: {phases: []}\n')).config.metrics.latencyPhases, []);
  });

  it('names the key and the phases when one is unknown', async () => {
    await assert.rejects(load('metrics:\n  latency_histogram:\n    phases: [login, stage]\n'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /metrics\.latency_histogram\.phases\[1\]/);
      assert.match(error.message, /resolve/);
      return true;
    });
  });
});
