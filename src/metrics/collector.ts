import { collectDefaultMetrics } from 'prom-client';
import { STAGES, type Stage } from '../probe/stages.js';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { JobResults, ResultStore } from '../scheduler/results.js';
import { UNSHARDED, type Shard } from '../scheduler/shard.js';
import * as m from './definitions.js';
import type { MetricDef } from './definitions.js';
import { labelPair, TextRegistry, type ExpositionText } from './exposition.js';
import type { Stall } from './event-loop-stall.js';
import { ResultBlocks, writeBlocks, type SeriesTable } from './result-blocks.js';
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
  /** The jobs this exporter schedules (the current config's, or this shard's share): only these are rendered, so a removed one vanishes at once. A new array when they change, never changed in place (what a scrape derives from it is kept per array). */
  jobs: () => readonly ProbeJob[];
  /** --shard.index/--shard.count, for imap_exporter_shard_info; default 0 of 1. */
  shard?: Shard;
  buildInfo: BuildInfo;
  reloadState: () => ReloadState;
  /** prom-client's default process metrics; default true. */
  processMetrics?: boolean;
  /** The longest event-loop stall in the recent window (event-loop-stall.ts); omitted, no such series. */
  eventLoopStall?: () => Stall;
  /** The phases the latency histogram keeps (config `metrics.latency_histogram.phases`); default all. */
  latencyPhases?: () => readonly Stage[];
}

type JobState = JobResults | undefined;

// What accumulates per job (undefined: no result yet), pre-rendered like the per-probe
// series and made again when the job's state changes (JobResults.version).
const STATE_GAUGES: SeriesTable<JobState> = [
  [m.LAST_RUN, (state, emit) => {
    if (state?.latest) emit('', state.latest.endedAt / 1000);
  }],
  [m.LAST_SUCCESS, (state, emit) => {
    if (state?.lastSuccessAt !== undefined) emit('', state.lastSuccessAt / 1000);
  }],
];
const STATE_COUNTERS: SeriesTable<JobState> = [
  // Configured jobs start at 0, so the first probe shows up in rate() and increase().
  [m.PROBES_TOTAL, (state, emit) => emit('', state?.probesTotal ?? 0)],
  [m.FAILURES_TOTAL, (state, emit) => {
    // One entry per (stage, reason) in the store, so no label set repeats.
    for (const f of state?.failures ?? []) emit(`,${labelPair('phase', f.stage)},${labelPair('reason', f.reason)}`, f.count);
  }],
  [m.SKIPPED_TOTAL, (state, emit) => emit('', state?.skippedTotal ?? 0)],
];

/** One scrape's view of (current config × latest results), as the families take it. */
interface Snapshot {
  /** Each configured job's latest result, if it has one, with its formatted target and account labels. */
  latest: (readonly [string, ProbeResult])[];
  /** Each configured job's state (undefined before its first run), with its version. */
  states: (readonly [string, JobState, unknown])[];
  /** The latest result among each target's jobs: TLS and capabilities are per target. */
  targets: Map<string, ProbeResult>;
}

/**
 * The /metrics registry. Everything derived from the ResultStore is written as text at
 * scrape time from the current config and the latest results (exposition.ts), so a
 * scrape never waits for a probe and a job removed from the config is gone at the next
 * scrape; prom-client itself renders only its default process metrics, after ours.
 * The stage latency histogram is fed on every recorded result from the moment the
 * registry exists: create it before the scheduler starts.
 *
 * A scrape is streamed and gives the event loop a turn every few milliseconds
 * (exposition.ts), and each job's per-probe lines are rendered once when its result
 * arrives (result-blocks.ts), so 10,000 jobs neither stall the probes nor cost a full
 * re-format per scrape. A result that arrives mid-scrape shows from the next one.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): TextRegistry {
  const latency = new StageLatencyHistogram(m.STAGE_LATENCY.name, m.STAGE_LATENCY.help('scheduled'), m.STAGE_LATENCY_BUCKETS);
  const latencyPhases = perArray(options.latencyPhases ?? (() => STAGES), (phases): ReadonlySet<Stage> => new Set(phases));
  const jobBlocks = new ResultBlocks(JOB_SERIES);
  const targetBlocks = new ResultBlocks(TARGET_SERIES);
  const stateGauges = new ResultBlocks(STATE_GAUGES);
  const stateCounters = new ResultBlocks(STATE_COUNTERS);
  options.results.subscribe({
    // Everything a result changes is rendered now, between probes, rather than in a
    // scrape: when every job had a new result since the last one (a scrape interval as
    // long as the probe interval), rendering it all at scrape time made that scrape
    // 0.5-0.7 s at 10,000 jobs and 4.4 s at 20,000.
    recorded(job, result) {
      const phases = latencyPhases();
      for (const s of result.stages) {
        if (s.success && Number.isFinite(s.durationSeconds) && phases.has(s.stage)) latency.observe(job.target, s.stage, s.durationSeconds);
      }
      const base = jobBase(job.target, job.account);
      jobBlocks.of(base, result);
      const state = options.results.get(job.key);
      stateGauges.of(base, state, state?.version);
      stateCounters.of(base, state, state?.version);
      // The target's latest result, as a scrape picks it, unless another job's ended later.
      targetBlocks.of(targetBase(job.target), result);
    },
    retained(jobs) {
      latency.retain(new Set(jobs.map((job) => job.target)), latencyPhases());
      const bases = new Set(jobs.map((job) => jobBase(job.target, job.account)));
      for (const blocks of [jobBlocks, stateGauges, stateCounters]) blocks.retain(bases);
      targetBlocks.retain(new Set(jobs.map((job) => targetBase(job.target))));
    },
  });

  const config = perArray(options.jobs, configuredJobs);
  const registry = new TextRegistry(async (out) => {
    const { jobs, intervals, targets: configuredTargets } = config();
    const snapshot = await takeSnapshot(out, options.results, jobs);
    // A late result of a removed target may have re-created its series since retain(),
    // and a reload may have deselected phases.
    latency.retain(configuredTargets, latencyPhases());
    await writeGauges(out, JOB_SERIES, 'scheduled', snapshot.latest, jobBlocks);
    await writeIntervals(out, 'scheduled', intervals);
    await writeBlocks(out, stateGauges, STATE_GAUGES, help, snapshot.states);
    const targets = [...snapshot.targets].map(([target, result]) => [targetBase(target), result] as const);
    await writeGauges(out, TARGET_SERIES, 'scheduled', targets, targetBlocks);
    await writeBlocks(out, stateCounters, STATE_COUNTERS, help, snapshot.states, 'counter');
    await latency.writeTo(out);
    writeExporterFamilies(out, options, jobs.length);
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
  const shard = options.shard ?? UNSHARDED;
  scalar(m.SHARD_INFO, `${labelPair('index', String(shard.index))},${labelPair('count', String(shard.count))}`, 1);
  if (options.eventLoopStall) {
    const stall = options.eventLoopStall();
    scalar(m.EVENT_LOOP_STALL, '', stall.seconds);
    scalar(m.EVENT_LOOP_STALL_CPU_WAIT, '', stall.cpuWaitSeconds);
  }
}

function help(def: MetricDef): string {
  return def.help('scheduled');
}

/** `derive(source())`, made again only when `source` returns another array (the config's are new at each load, never changed in place). */
function perArray<A, B>(source: () => A, derive: (current: A) => B): () => B {
  let seen: { current: A; derived: B } | undefined;
  return () => {
    const current = source();
    if (seen?.current !== current) seen = { current, derived: derive(current) };
    return seen.derived;
  };
}

/** A configured job as a scrape needs it; made once per config, not once per scrape. */
interface ConfiguredJob {
  key: string;
  target: string;
  base: string;
  intervalMs: number;
}

/** What a scrape needs of the config, made once per config. */
interface Configured {
  jobs: ConfiguredJob[];
  /** (base labels, job) for imap_probe_interval_seconds. */
  intervals: (readonly [string, ConfiguredJob])[];
  targets: Set<string>;
}

/**
 * Each job of the config once, with its labels formatted: made once per config
 * (formatting 10,000 label sets at every scrape held the event loop before the first slice).
 */
function configuredJobs(all: readonly ProbeJob[]): Configured {
  const seen = new Set<string>();
  const jobs: ConfiguredJob[] = [];
  for (const job of all) {
    if (seen.has(job.key)) continue;
    seen.add(job.key);
    jobs.push({ key: job.key, target: job.target, base: jobBase(job.target, job.account), intervalMs: job.intervalMs });
  }
  return { jobs, intervals: jobs.map((job) => [job.base, job] as const), targets: new Set(jobs.map((job) => job.target)) };
}

/** Reads every job's state, in slices: at 10,000 jobs reading them in one go, before the first family, held the event loop 15-20 ms. */
async function takeSnapshot(out: ExpositionText, results: ResultStore, jobs: readonly ConfiguredJob[]): Promise<Snapshot> {
  const snapshot: Snapshot = { latest: [], states: [], targets: new Map() };
  await out.each(jobs, ({ key, target, base }) => {
    const state = results.get(key);
    snapshot.states.push([base, state, state?.version]);
    const latest = state?.latest;
    if (latest === undefined) return;
    snapshot.latest.push([base, latest]);
    const current = snapshot.targets.get(target);
    if (!current || latest.endedAt > current.endedAt) snapshot.targets.set(target, latest);
  });
  return snapshot;
}
