import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { DEFAULT_CONFIG_FILE, type DaemonFlags } from './cli/flags.js';
import { ConfigStore } from './config/store.js';
import { createApp } from './http/app.js';
import { WebSecurity } from './http/web-server.js';
import type { Logger } from './log.js';
import { createMetricsRegistry } from './metrics/collector.js';
import { openCpuWaitClock } from './metrics/cpu-wait.js';
import { EventLoopStallMonitor } from './metrics/event-loop-stall.js';
import { exporterErrorsCounter } from './metrics/exporter-errors.js';
import { scheduleLatenessHistogram } from './metrics/schedule-lateness.js';
import { OnDemandProber } from './probe/on-demand.js';
import { STAGES } from './probe/stages.js';
import { runProbe } from './probe/run-probe.js';
import { ProbeSlots } from './probe/slots.js';
import type { ProbeJob, ProbeResult } from './probe/types.js';
import { systemClock } from './scheduler/clock.js';
import { ResultStore } from './scheduler/results.js';
import { Scheduler } from './scheduler/scheduler.js';
import { jobsOfShard } from './scheduler/shard.js';
import { StoredResult } from './scheduler/stored-result.js';
import { VERSION } from './version.js';

// In-flight probes get this long to end on their own at shutdown, then they are aborted.
const SHUTDOWN_GRACE_MS = 2000;
// Whatever still hangs after this is abandoned: SIGTERM must exit well within 5 s.
const SHUTDOWN_BACKSTOP_MS = 4000;

/**
 * The exporter daemon: HTTP first (so /-/healthy answers and /-/ready says "not
 * yet"), then the config, then the schedule. Resolves with the exit code once a
 * signal has stopped everything.
 */
export async function runDaemon(flags: DaemonFlags, logger: Logger): Promise<number> {
  // Handlers first: a SIGTERM during start-up must still shut down cleanly, not kill the process.
  let stopping = false;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    const onStop = (signal: NodeJS.Signals) => {
      // A second SIGTERM/SIGINT means "now": the operator will not wait for the grace period.
      if (stopping) {
        logger.warn({ signal }, 'second stop signal: exiting at once');
        process.exit(1);
      }
      stopping = true;
      resolve(signal);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
  const resolver = flags.dnsServers.length > 0 ? { servers: flags.dnsServers } : {};
  let store: ConfigStore | undefined;
  // This replica's share of the config's jobs (all of them unless --shard.count): what it schedules and exports.
  let scheduledJobs: readonly ProbeJob[] = [];
  const results = new ResultStore();
  const cpuWait = openCpuWaitClock();
  const stalls = new EventLoopStallMonitor(cpuWait ? { cpuWait: cpuWait.read } : {});
  stalls.start();
  const registry = createMetricsRegistry({
    results,
    eventLoopStall: () => stalls.longest(),
    latencyPhases: () => store?.current.config.metrics.latencyPhases ?? STAGES,
    jobs: () => scheduledJobs,
    shard: flags.shard,
    buildInfo: { version: VERSION, nodeVersion: process.version },
    reloadState: () => ({
      lastReloadSuccessful: store?.lastReloadSuccessful ?? false,
      lastReloadSuccessTimestamp: store?.lastReloadSuccessTimestampSeconds,
    }),
  });
  const exporterErrors = exporterErrorsCounter(registry);
  const lateness = scheduleLatenessHistogram(registry);
  const onExporterFault = (job: ProbeJob, result: ProbeResult) => {
    exporterErrors.inc({ kind: 'fd_exhausted' });
    logger.error(
      { target: job.target, account: job.account, kind: result.exporterFault, detail: result.failure?.detail },
      'probe not recorded: the exporter ran out of file descriptors (raise its fd limit, or lower --web.max-connections or --probe.concurrency)',
    );
  };
  // One budget of probes in flight for the schedule and /probe together (probe/slots.ts).
  const slots = new ProbeSlots(flags.probeConcurrency, flags.probeConcurrency);
  const scheduler = new Scheduler({
    clock: systemClock,
    runProbe: (job, signal) => runProbe(job.spec, { signal, resolver }),
    concurrency: flags.probeConcurrency,
    slots,
    onStart: (_job, lateMs) => lateness.observe(lateMs / 1000),
    onResult: (job, result) => {
      if (result.exporterFault) onExporterFault(job, result);
      else logResult(logger, job, result, results.record(job, new StoredResult(result)));
    },
    onSkip: (job) => {
      results.recordSkipped(job);
      logger.warn({ target: job.target, account: job.account }, 'probe skipped: the previous run is still going (timeout close to interval?)');
    },
    logger: logger.child({ component: 'scheduler' }),
  });
  const onDemand = new OnDemandProber((spec, options) => runProbe(spec, { ...options, resolver }), slots);

  const reload = async () => {
    if (!store) return { ok: false as const, error: 'no config loaded yet' };
    const outcome = await store.reload();
    if (!outcome.ok) {
      logger.error({ file: store.path, error: outcome.error.message }, 'config reload failed; keeping the running config');
      return { ok: false as const, error: outcome.error.message };
    }
    for (const warning of outcome.config.warnings) logger.warn({ file: store.path }, warning);
    logger.info({ file: store.path, changed: outcome.changed, jobs: outcome.config.jobs.length }, 'config reloaded');
    return { ok: true as const, changed: outcome.changed };
  };

  // exporter-toolkit's web config (TLS, basic auth, headers): a bad file is a start-up error.
  let web: WebSecurity;
  try {
    web = await WebSecurity.open(flags.webConfigFile, logger.child({ component: 'web' }));
  } catch (error) {
    logger.fatal({ file: flags.webConfigFile, error: (error as Error).message }, 'cannot load the web config');
    return 1;
  }
  const onHangup = () => {
    void reload();
    void web.reload();
  };
  process.on('SIGHUP', onHangup);

  const app = createApp({
    registry,
    config: () => store,
    reload,
    results,
    scheduledJobs: () => scheduledJobs,
    shard: flags.shard,
    onDemand,
    onExporterFault,
    nextRunAt: (key) => scheduler.nextRunAt(key),
    logger,
    version: VERSION,
    guard: web.middleware(),
  });
  // A missing config is a mistake in the command line: say so before "listening" is logged.
  const missing = await missingConfigFile(flags.configFile);
  if (missing) {
    logger.fatal({ file: flags.configFile, error: missing }, 'cannot load the config');
    return 1;
  }
  const server = web.createServer(app);
  // Below the fd limit, so probes and files always have descriptors left: excess connections are closed at once.
  server.maxConnections = flags.webMaxConnections ?? defaultMaxConnections();
  try {
    await listen(server, flags.listen);
  } catch (error) {
    web.close();
    logger.fatal({ address: flags.listen, error: (error as Error).message }, 'cannot listen');
    return 1;
  }
  const security = { tls: Boolean(web.settings.tls), basic_auth: web.settings.users.size > 0 };
  logger.info({ address: server.address(), version: VERSION, ...security }, 'listening');

  try {
    store = await ConfigStore.open(flags.configFile, flags.configMaxBytes === undefined ? {} : { maxBytes: flags.configMaxBytes });
  } catch (error) {
    logger.fatal({ file: flags.configFile, error: (error as Error).message }, 'cannot load the config');
    web.close();
    await closeServer(server);
    return 1;
  }
  for (const warning of store.current.warnings) logger.warn({ file: store.path }, warning);
  const applyJobs = (configured: readonly ProbeJob[]) => {
    scheduledJobs = jobsOfShard(configured, flags.shard);
    const summary = scheduler.setJobs(scheduledJobs);
    results.retain(scheduledJobs);
    const shard = { shard_index: flags.shard.index, shard_count: flags.shard.count, config_jobs: configured.length };
    logger.info({ jobs: scheduledJobs.length, ...shard, ...summary }, 'probe jobs scheduled');
  };
  store.onChange((next) => applyJobs(next.jobs));
  applyJobs(store.current.jobs);

  const signal = await stopSignal;
  // Not just off: with no handler a SIGHUP would kill the process (status 129) mid-shutdown.
  process.off('SIGHUP', onHangup);
  process.on('SIGHUP', () => logger.info('SIGHUP ignored: shutting down'));
  logger.info({ signal }, 'shutting down');
  const backstop = setTimeout(() => {
    logger.warn('shutdown backstop reached: exiting with work still pending');
    process.exit(0);
  }, SHUTDOWN_BACKSTOP_MS);
  backstop.unref();
  onDemand.abortAll();
  web.close();
  await Promise.all([scheduler.stop({ graceMs: SHUTDOWN_GRACE_MS }), closeServer(server, SHUTDOWN_GRACE_MS)]);
  stalls.stop();
  cpuWait?.close();
  logger.info('stopped');
  return 0;
}

/** One line per failed probe, one per state change; successes only at debug. */
function logResult(logger: Logger, job: ProbeJob, result: ProbeResult, outcome: { changed: boolean; previous?: boolean }): void {
  const fields = { target: job.target, account: job.account, duration_seconds: round(result.durationSeconds) };
  if (result.failure) {
    const { stage, reason, detail } = result.failure;
    logger.warn({ ...fields, phase: stage, reason, detail, state_change: outcome.changed || outcome.previous === undefined }, 'probe failed');
  } else if (outcome.changed) {
    logger.info({ ...fields, state_change: true }, 'probe recovered');
  } else {
    logger.debug(fields, 'probe succeeded');
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/** Why the config file cannot be the config (not there, not a file), or undefined. */
async function missingConfigFile(file: string): Promise<string | undefined> {
  const where = `${file} (${resolvePath(file)})`;
  const advice = `pass --config.file=PATH; the default, ${DEFAULT_CONFIG_FILE}, is relative to the working directory`;
  try {
    const info = await stat(file);
    return info.isDirectory() ? `${where} is a directory, not a config file: ${advice}` : undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${where}: no such file: ${advice}`;
    return undefined; // anything else (permissions …) is reported by the loader with its own words
  }
}

function listen(server: Server, address: { host?: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Stops accepting, lets requests in flight (an aborted /probe answering 503) finish for up
 * to graceMs, then cuts whatever is left.
 */
function closeServer(server: Server, graceMs = 0): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Half the soft fd limit, at most 1024, at least 16: the other half is for probes and files. */
function defaultMaxConnections(): number {
  return Math.max(16, Math.min(1024, Math.floor(softFdLimit() / 2)));
}

function softFdLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : 1024;
  } catch {
    return 1024; // not Linux: the common default
  }
}
