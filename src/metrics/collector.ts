import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { Stage } from '../probe/stages.js';
import type { JobResults, ResultStore } from '../scheduler/results.js';
import * as m from './definitions.js';
import { jobLabels, type Labels, type MetricDef } from './definitions.js';
import { JOB_SERIES, setOn, TARGET_SERIES } from './series.js';

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

/** One scrape's view of (current config × latest results), built once per scrape. */
interface Snapshot {
  jobs: { labels: Labels; state: JobResults | undefined }[];
  /** The latest result among each target's jobs: TLS and capabilities are per target. */
  targets: Map<string, ProbeResult>;
  configuredTargets: Set<string>;
}

/**
 * The /metrics registry. Everything derived from the ResultStore is rendered in
 * collect() callbacks from the current config and the latest results, so a scrape
 * never waits for a probe and a job removed from the config is gone at the next
 * scrape. The stage latency histogram is fed on every recorded result from the moment
 * the registry exists: create it before the scheduler starts.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  const snapshot = perScrape(() => buildSnapshot(options.results, options.jobs()));
  const gauge = (def: MetricDef, collect: (g: Gauge<string>) => void): void => {
    const g: Gauge<string> = new Gauge({
      name: def.name,
      help: def.help('scheduled'),
      labelNames: def.labelNames,
      registers: [registry],
      collect: () => {
        g.reset();
        collect(g);
      },
    });
  };
  const counter = (def: MetricDef, count: (job: Snapshot['jobs'][number], c: Counter<string>) => void): void => {
    const c: Counter<string> = new Counter({
      name: def.name,
      help: def.help('scheduled'),
      labelNames: def.labelNames,
      registers: [registry],
      collect: () => {
        c.reset();
        for (const job of snapshot().jobs) count(job, c);
      },
    });
  };

  for (const [def, extract] of JOB_SERIES) {
    gauge(def, (g) => {
      const emit = setOn(g);
      for (const { labels, state } of snapshot().jobs) if (state?.latest) extract(state.latest, labels, emit);
    });
  }
  gauge(m.LAST_RUN, (g) => {
    for (const { labels, state } of snapshot().jobs) if (state?.latest) g.set(labels, state.latest.endedAt / 1000);
  });
  gauge(m.LAST_SUCCESS, (g) => {
    for (const { labels, state } of snapshot().jobs) {
      if (state?.lastSuccessAt !== undefined) g.set(labels, state.lastSuccessAt / 1000);
    }
  });
  for (const [def, extract] of TARGET_SERIES) {
    gauge(def, (g) => {
      const emit = setOn(g);
      for (const [target, result] of snapshot().targets) extract(result, { target }, emit);
    });
  }
  // Configured jobs start at 0, so the first probe shows up in rate() and increase().
  counter(m.PROBES_TOTAL, ({ labels, state }, c) => c.inc(labels, state?.probesTotal ?? 0));
  counter(m.FAILURES_TOTAL, ({ labels, state }, c) => {
    for (const f of state?.failures ?? []) c.inc({ ...labels, stage: f.stage, reason: f.reason }, f.count);
  });
  counter(m.SKIPPED_TOTAL, ({ labels, state }, c) => c.inc(labels, state?.skippedTotal ?? 0));

  stageLatencyHistogram(registry, options.results, () => snapshot().configuredTargets);

  gauge(m.JOBS, (g) => g.set(snapshot().jobs.length));
  gauge(m.RELOAD_SUCCESSFUL, (g) => g.set(options.reloadState().lastReloadSuccessful ? 1 : 0));
  gauge(m.RELOAD_TIMESTAMP, (g) => {
    const at = options.reloadState().lastReloadSuccessTimestamp;
    if (at === undefined) g.remove();
    else g.set(at);
  });
  const { version, nodeVersion } = options.buildInfo;
  gauge(m.BUILD_INFO, (g) => g.set({ version, node_version: nodeVersion }, 1));

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Fed by the store on every result; series of targets no longer configured are
 * dropped on retain() and, in case a late result re-created them, at every scrape.
 */
function stageLatencyHistogram(registry: Registry, results: ResultStore, configured: () => Set<string>): void {
  const observed = new Map<string, Set<Stage>>();
  const prune = (keep: Set<string>): void => {
    for (const [target, stages] of observed) {
      if (keep.has(target)) continue;
      for (const stage of stages) histogram.remove({ target, stage });
      observed.delete(target);
    }
  };
  const histogram: Histogram<string> = new Histogram({
    name: m.STAGE_LATENCY.name,
    help: m.STAGE_LATENCY.help('scheduled'),
    labelNames: m.STAGE_LATENCY.labelNames,
    buckets: m.STAGE_LATENCY_BUCKETS,
    registers: [registry],
    collect: () => prune(configured()),
  });
  results.subscribe({
    recorded(job, result) {
      for (const s of result.stages) {
        if (!s.success || !Number.isFinite(s.durationSeconds)) continue;
        histogram.observe({ target: job.target, stage: s.stage }, s.durationSeconds);
        let stages = observed.get(job.target);
        if (!stages) observed.set(job.target, (stages = new Set()));
        stages.add(s.stage);
      }
    },
    retained(jobs) {
      prune(new Set(jobs.map((job) => job.target)));
    },
  });
}

function buildSnapshot(results: ResultStore, jobs: readonly ProbeJob[]): Snapshot {
  const snapshot: Snapshot = { jobs: [], targets: new Map(), configuredTargets: new Set() };
  const seen = new Set<string>();
  for (const job of jobs) {
    if (seen.has(job.key)) continue;
    seen.add(job.key);
    const state = results.get(job.key);
    snapshot.jobs.push({ labels: jobLabels(job.target, job.account), state });
    snapshot.configuredTargets.add(job.target);
    const latest = state?.latest;
    const current = snapshot.targets.get(job.target);
    if (latest && (!current || latest.endedAt > current.endedAt)) snapshot.targets.set(job.target, latest);
  }
  return snapshot;
}

/**
 * Memoise `build` for one scrape: Registry.metrics() calls every collect() in one
 * synchronous pass, so a cache cleared on the next microtask is shared by exactly
 * that pass, and the next scrape sees fresh state.
 */
function perScrape<T>(build: () => T): () => T {
  let cached: T | undefined;
  return () => {
    if (cached === undefined) {
      cached = build();
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached;
  };
}
