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

/**
 * The /metrics registry. What is derived from the ResultStore is rendered as text when
 * a result is recorded (result-blocks.ts), for the jobs of the current config, and a
 * scrape copies that text; a job removed from the config is gone at the next scrape, and
 * a scrape never waits for a probe. prom-client itself renders only its default process
 * metrics, after ours. The stage latency histogram is fed on every recorded result from
 * the moment the registry exists: create it before the scheduler starts.
 *
 * A scrape is streamed and gives the event loop a turn every few milliseconds
 * (exposition.ts), so 10,000 jobs neither stall the probes nor cost a re-format per
 * scrape. A result that arrives mid-scrape shows from the next one.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): TextRegistry {
  const latency = new StageLatencyHistogram(m.STAGE_LATENCY.name, m.STAGE_LATENCY.help('scheduled'), m.STAGE_LATENCY_BUCKETS);
  const latencyPhases = perArray(options.latencyPhases ?? (() => STAGES), (phases): ReadonlySet<Stage> => new Set(phases));
  const jobBlocks = new ResultBlocks(JOB_SERIES);
  const targetBlocks = new ResultBlocks(TARGET_SERIES);
  const stateGauges = new ResultBlocks(STATE_GAUGES);
  const stateCounters = new ResultBlocks(STATE_COUNTERS);
  const config = perArray(options.jobs, configuredJobs);
  const renderState = (base: string, state: JobState): void => {
    stateGauges.of(base, state, state?.version);
    stateCounters.of(base, state, state?.version);
  };
  options.results.subscribe({
    // Everything a result changes is rendered now, between probes, rather than in a
    // scrape: a scrape then only copies lines (see the render below). Results of jobs
    // gone from the config (a run that was not cancelled) are not rendered.
    recorded(job, result) {
      const phases = latencyPhases();
      for (const s of result.stages) {
        if (s.success && Number.isFinite(s.durationSeconds) && phases.has(s.stage)) latency.observe(job.target, s.stage, s.durationSeconds);
      }
      if (!config().keys.has(job.key)) return;
      const base = jobBase(job.target, job.account);
      jobBlocks.of(base, result);
      renderState(base, options.results.get(job.key));
      // The target's latest result, unless another of its jobs' ended later.
      const target = targetBase(job.target);
      const shown = targetBlocks.sourceOf(target);
      if (shown === undefined || result.endedAt >= shown.endedAt) targetBlocks.of(target, result);
    },
    skipped(job) {
      if (config().keys.has(job.key)) renderState(jobBase(job.target, job.account), options.results.get(job.key));
    },
    retained(jobs) {
      latency.retain(new Set(jobs.map((job) => job.target)), latencyPhases());
      const bases = new Set(jobs.map((job) => jobBase(job.target, job.account)));
      for (const blocks of [jobBlocks, stateGauges, stateCounters]) blocks.retain(bases);
      targetBlocks.retain(new Set(jobs.map((job) => targetBase(job.target))));
    },
  });

  // The config the blocks were last made to match: every configured job's and target's
  // lines current, and no others'. Until the config changes, recording keeps them so,
  // and a scrape writes them as they are: going over 10,000 jobs at every scrape to look
  // their blocks up was half of its CPU.
  let matched: Configured | undefined;
  const registry = new TextRegistry(async (out) => {
    const current = config();
    const match = matched !== current;
    const { results } = options;
    // A late result of a removed target may have re-created its series since retain(),
    // and a reload may have deselected phases.
    latency.retain(current.targets, latencyPhases());
    await writeGauges(out, JOB_SERIES, 'scheduled', match ? latestOfJobs(results, current.jobs) : undefined, jobBlocks);
    await writeIntervals(out, 'scheduled', current.intervals);
    await writeBlocks(out, stateGauges, STATE_GAUGES, help, match ? statesOfJobs(results, current.jobs) : undefined);
    await writeGauges(out, TARGET_SERIES, 'scheduled', match ? latestOfTargets(results, current.byTarget) : undefined, targetBlocks);
    await writeBlocks(out, stateCounters, STATE_COUNTERS, help, match ? statesOfJobs(results, current.jobs) : undefined, 'counter');
    await latency.writeTo(out);
    writeExporterFamilies(out, options, current.jobs.length);
    matched = current;
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
  base: string;
  intervalMs: number;
}

/** What a scrape needs of the config, made once per config. */
interface Configured {
  jobs: ConfiguredJob[];
  keys: Set<string>;
  /** (base labels, job) for imap_probe_interval_seconds. */
  intervals: (readonly [string, ConfiguredJob])[];
  targets: Set<string>;
  /** Each target's base labels and jobs. */
  byTarget: Map<string, { base: string; jobs: ConfiguredJob[] }>;
}

/**
 * Each job of the config once, with its labels formatted: made once per config
 * (formatting 10,000 label sets at every scrape held the event loop before the first slice).
 */
function configuredJobs(all: readonly ProbeJob[]): Configured {
  const configured: Configured = { jobs: [], keys: new Set(), intervals: [], targets: new Set(), byTarget: new Map() };
  for (const job of all) {
    if (configured.keys.has(job.key)) continue;
    const entry: ConfiguredJob = { key: job.key, base: jobBase(job.target, job.account), intervalMs: job.intervalMs };
    configured.keys.add(job.key);
    configured.jobs.push(entry);
    configured.intervals.push([entry.base, entry]);
    configured.targets.add(job.target);
    let target = configured.byTarget.get(job.target);
    if (target === undefined) configured.byTarget.set(job.target, (target = { base: targetBase(job.target), jobs: [] }));
    target.jobs.push(entry);
  }
  return configured;
}

// What the blocks are made to match when the config changed, read from the store as a scrape's slices reach each job.

function* latestOfJobs(results: ResultStore, jobs: readonly ConfiguredJob[]): Generator<readonly [string, ProbeResult]> {
  for (const { key, base } of jobs) {
    const latest = results.get(key)?.latest;
    if (latest) yield [base, latest];
  }
}

function* statesOfJobs(results: ResultStore, jobs: readonly ConfiguredJob[]): Generator<readonly [string, JobState, unknown]> {
  for (const { key, base } of jobs) {
    const state = results.get(key);
    yield [base, state, state?.version];
  }
}

/** The latest result among each target's jobs: TLS and capabilities are per target. */
function* latestOfTargets(results: ResultStore, byTarget: Configured['byTarget']): Generator<readonly [string, ProbeResult]> {
  for (const { base, jobs } of byTarget.values()) {
    let latest: ProbeResult | undefined;
    for (const { key } of jobs) {
      const result = results.get(key)?.latest;
      if (result && (!latest || result.endedAt > latest.endedAt)) latest = result;
    }
    if (latest) yield [base, latest];
  }
}
