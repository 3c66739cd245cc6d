import { collectDefaultMetrics, type Registry } from 'prom-client';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { JobResults, ResultStore } from '../scheduler/results.js';
import * as m from './definitions.js';
import type { MetricDef } from './definitions.js';
import { labelPair, TextRegistry, type Emit, type ExpositionText, type MetricType } from './exposition.js';
import { jobBase, JOB_SERIES, TARGET_SERIES, targetBase, writeGauges, writeIntervals } from './series.js';
import { StageLatencyHistogram } from './stage-latency.js';

export interface BuildInfo {
  version: string;
  nodeVersion: string;
}

export interface ReloadState {
  lastReloadSuccessful: boolean;
  /** Seconds since the epoch (the metric's unit); undefined until a config loaded. */
  lastReloadSuccessTimestamp: number | undefined;
}

export interface MetricsRegistryOptions {
  results: ResultStore;
  /** The jobs of the current config: only these are rendered, so a removed one vanishes at once. */
  jobs: () => readonly ProbeJob[];
  buildInfo: BuildInfo;
  reloadState: () => ReloadState;
  /** prom-client's default process metrics; default true. */
  processMetrics?: boolean;
}

/** One scrape's view of (current config × latest results). */
interface Snapshot {
  /** Each configured job once, with its formatted target and account labels. */
  jobs: { base: string; state: JobResults | undefined; intervalMs: number }[];
  /** The latest result among each target's jobs: TLS and capabilities are per target. */
  targets: Map<string, ProbeResult>;
  configuredTargets: Set<string>;
}

/**
 * The /metrics registry. Everything derived from the ResultStore is written as text at
 * scrape time from the current config and the latest results (exposition.ts), so a
 * scrape never waits for a probe and a job removed from the config is gone at the next
 * scrape; prom-client itself renders only its default process metrics, after ours.
 * The stage latency histogram is fed on every recorded result from the moment the
 * registry exists: create it before the scheduler starts.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const latency = new StageLatencyHistogram(m.STAGE_LATENCY.name, m.STAGE_LATENCY.help('scheduled'), m.STAGE_LATENCY_BUCKETS);
  options.results.subscribe({
    recorded(job, result) {
      for (const s of result.stages) {
        if (s.success && Number.isFinite(s.durationSeconds)) latency.observe(job.target, s.stage, s.durationSeconds);
      }
    },
    retained(jobs) {
      latency.retainTargets(new Set(jobs.map((job) => job.target)));
    },
  });

  const registry = new TextRegistry((out) => {
    const snapshot = buildSnapshot(options.results, options.jobs());
    // A late result of a removed target may have re-created its series since retain().
    latency.retainTargets(snapshot.configuredTargets);
    writeGauges(out, JOB_SERIES, 'scheduled', latestOfJobs(snapshot));
    writeIntervals(out, 'scheduled', snapshot.jobs.map((j) => [j.base, j] as const));
    perJob(out, m.LAST_RUN, 'gauge', snapshot, (state, emit) => {
      if (state?.latest) emit('', state.latest.endedAt / 1000);
    });
    perJob(out, m.LAST_SUCCESS, 'gauge', snapshot, (state, emit) => {
      if (state?.lastSuccessAt !== undefined) emit('', state.lastSuccessAt / 1000);
    });
    writeGauges(out, TARGET_SERIES, 'scheduled', [...snapshot.targets].map(([target, result]) => [targetBase(target), result] as const));
    // Configured jobs start at 0, so the first probe shows up in rate() and increase().
    perJob(out, m.PROBES_TOTAL, 'counter', snapshot, (state, emit) => emit('', state?.probesTotal ?? 0));
    perJob(out, m.FAILURES_TOTAL, 'counter', snapshot, (state, emit) => {
      // One entry per (stage, reason) in the store, so no label set repeats.
      for (const f of state?.failures ?? []) emit(`,${labelPair('phase', f.stage)},${labelPair('reason', f.reason)}`, f.count);
    });
    perJob(out, m.SKIPPED_TOTAL, 'counter', snapshot, (state, emit) => emit('', state?.skippedTotal ?? 0));
    latency.writeTo(out);
    writeExporterFamilies(out, options, snapshot.jobs.length);
  });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** The exporter's own scalars. */
function writeExporterFamilies(out: ExpositionText, options: MetricsRegistryOptions, jobCount: number): void {
  const scalar = (def: MetricDef, base: string, value: number | undefined): void => {
    const family = out.family(def.name, def.help('scheduled'), 'gauge');
    if (value !== undefined) family.sample(base, value);
  };
  const reload = options.reloadState();
  const { version, nodeVersion } = options.buildInfo;
  scalar(m.JOBS, '', jobCount);
  scalar(m.RELOAD_SUCCESSFUL, '', reload.lastReloadSuccessful ? 1 : 0);
  scalar(m.RELOAD_TIMESTAMP, '', reload.lastReloadSuccessTimestamp);
  scalar(m.BUILD_INFO, `${labelPair('version', version)},${labelPair('node_version', nodeVersion)}`, 1);
}

/** A family with one group per configured job; `write` gets the job's state (undefined before its first result). */
function perJob(
  out: ExpositionText,
  def: MetricDef,
  type: MetricType,
  snapshot: Snapshot,
  write: (state: JobResults | undefined, emit: Emit) => void,
): void {
  const family = out.family(def.name, def.help('scheduled'), type);
  for (const { base, state } of snapshot.jobs) family.group(base, state, write);
}

function latestOfJobs(snapshot: Snapshot): (readonly [string, ProbeResult])[] {
  const groups: (readonly [string, ProbeResult])[] = [];
  for (const { base, state } of snapshot.jobs) if (state?.latest) groups.push([base, state.latest]);
  return groups;
}

function buildSnapshot(results: ResultStore, jobs: readonly ProbeJob[]): Snapshot {
  const snapshot: Snapshot = { jobs: [], targets: new Map(), configuredTargets: new Set() };
  const seen = new Set<string>();
  for (const job of jobs) {
    if (seen.has(job.key)) continue;
    seen.add(job.key);
    const state = results.get(job.key);
    snapshot.jobs.push({ base: jobBase(job.target, job.account), state, intervalMs: job.intervalMs });
    snapshot.configuredTargets.add(job.target);
    const latest = state?.latest;
    const current = snapshot.targets.get(job.target);
    if (latest && (!current || latest.endedAt > current.endedAt)) snapshot.targets.set(job.target, latest);
  }
  return snapshot;
}
