/**
 * The metric vocabulary of CONTRACT §3 in one place, shared by /metrics (collector.ts)
 * and /probe (probe-registry.ts) so names, labels and HELP texts cannot drift.
 *
 * Label decisions:
 * - `account` is omitted for a job without an account (an unauthenticated probe).
 *   Prometheus treats an empty label as absent, so `account=""` and no label are the
 *   same series once ingested; omitting it keeps the exposition equal to what is stored,
 *   and `{account=""}` still selects those series in PromQL.
 * - `imap_folders{pattern}` carries the LIST pattern exactly as configured. A non-empty
 *   LIST reference goes in an extra `reference` label, omitted when empty (the default):
 *   concatenating reference and pattern would merge distinct queries
 *   (reference `#shared.` + `*` versus pattern `#shared.*`) into one series.
 */

/** Whose values a HELP text describes: the latest scheduled run (/metrics) or this one run (/probe). */
export type Subject = 'scheduled' | 'on-demand';

export interface MetricDef<L extends string = string> {
  name: string;
  labelNames: readonly L[];
  help: (subject: Subject) => string;
}

function probeOf(subject: Subject): string {
  return subject === 'scheduled' ? 'the latest scheduled probe' : 'this probe';
}

function targetProbeOf(subject: Subject): string {
  return subject === 'scheduled' ? "the target's latest scheduled probe" : 'this probe';
}

function def<L extends string>(name: string, labelNames: readonly L[], help: (s: Subject) => string): MetricDef<L> {
  return { name, labelNames, help };
}

const JOB = ['target', 'account'] as const;

// Per probe: in /metrics for every job's latest result, in /probe for the one run.
export const PROBE_SUCCESS = def(
  'imap_probe_success',
  JOB,
  (s) =>
    `1 if ${probeOf(s)} passed every stage, else 0.` +
    (s === 'scheduled' ? " Probes run on the exporter's own schedule, not per scrape; /probe runs one on demand." : ''),
);
export const STAGE_SUCCESS = def(
  'imap_probe_phase_success',
  [...JOB, 'phase'],
  (s) => `1 if the stage succeeded in ${probeOf(s)}, 0 if it failed; a stage not reached has no series.`,
);
export const STAGE_DURATION = def(
  'imap_probe_phase_duration_seconds',
  [...JOB, 'phase'],
  (s) => `Seconds each reached stage took in ${probeOf(s)}.`,
);
export const FAILURE_INFO = def(
  'imap_probe_failure_info',
  [...JOB, 'phase', 'reason'],
  (s) => `Present (value 1) only when ${probeOf(s)} failed: the failed stage and the reason, so alerts carry the reason in probe mode too.`,
);
export const PROBE_INTERVAL = def(
  'imap_probe_interval_seconds',
  JOB,
  () => "The job's configured probe interval in seconds (staleness alerts compare the time since the last run with it).",
);
export const PROBE_DURATION = def('imap_probe_duration_seconds', JOB, (s) => `Seconds ${probeOf(s)} took, all stages.`);
export const MAILBOX_MESSAGES = def(
  'imap_mailbox_messages',
  [...JOB, 'mailbox'],
  (s) => `Messages in the mailbox (EXISTS after SELECT) in ${probeOf(s)}.`,
);
export const MAILBOX_RECENT = def(
  'imap_mailbox_recent',
  [...JOB, 'mailbox'],
  (s) => `RECENT count after SELECT in ${probeOf(s)}.`,
);
export const MAILBOX_UIDVALIDITY = def(
  'imap_mailbox_uidvalidity',
  [...JOB, 'mailbox'],
  (s) => `UIDVALIDITY of the mailbox in ${probeOf(s)}; a change means the mailbox was recreated.`,
);
export const MAILBOX_WRITABLE = def(
  'imap_mailbox_writable',
  [...JOB, 'mailbox'],
  (s) => `1 if SELECT opened the mailbox READ-WRITE, 0 if READ-ONLY, in ${probeOf(s)}.`,
);
export const MAILBOX_UIDNEXT = def(
  'imap_mailbox_uidnext',
  [...JOB, 'mailbox'],
  (s) => `UIDNEXT of the mailbox (the UID the next message will get) in ${probeOf(s)}.`,
);
export const MAILBOX_RIGHTS = def(
  'imap_mailbox_rights_info',
  [...JOB, 'mailbox', 'rights'],
  (s) => `The account's RFC 4314 rights on the mailbox (MYRIGHTS) in ${probeOf(s)}; value always 1.`,
);
export const NAMESPACE_INFO = def(
  'imap_namespace_info',
  [...JOB, 'type', 'prefix', 'delimiter'],
  (s) => `A namespace the server announced (NAMESPACE, RFC 2342; type personal, other or shared) in ${probeOf(s)}; value always 1.`,
);
export const QUOTA_STORAGE_USAGE = def(
  'imap_quota_storage_usage_bytes',
  [...JOB, 'root'],
  (s) => `STORAGE used under the quota root (GETQUOTAROOT of the selected mailbox; KiB converted to bytes) in ${probeOf(s)}.`,
);
export const QUOTA_STORAGE_LIMIT = def(
  'imap_quota_storage_limit_bytes',
  [...JOB, 'root'],
  (s) => `STORAGE limit of the quota root (KiB converted to bytes) in ${probeOf(s)}.`,
);
export const QUOTA_USAGE = def(
  'imap_quota_usage',
  [...JOB, 'root', 'resource'],
  (s) => `Usage of a counted quota resource (message, mailbox, …; STORAGE is in imap_quota_storage_usage_bytes) in ${probeOf(s)}.`,
);
export const QUOTA_LIMIT = def(
  'imap_quota_limit',
  [...JOB, 'root', 'resource'],
  (s) => `Limit of a counted quota resource (message, mailbox, …) in ${probeOf(s)}.`,
);
export const FOLDERS = def(
  'imap_folders',
  [...JOB, 'pattern', 'reference'],
  (s) => `Entries LIST returned for the pattern (and the reference, when not empty) in ${probeOf(s)}.`,
);
export const FOLDER_PRESENT = def(
  'imap_folder_present',
  [...JOB, 'folder'],
  (s) =>
    `1 if LIST returned the folder in ${probeOf(s)}, 0 if not; only for folder names the config expects (list entries' folders), ` +
    'and only when their LIST ran.',
);

// Per target: from the latest result among the target's jobs.
export const TLS_NOT_AFTER = def(
  'imap_tls_cert_not_after_timestamp_seconds',
  ['target'],
  (s) => `Earliest notAfter in the certificate chain presented in ${targetProbeOf(s)}, seconds since the epoch.`,
);
export const TLS_INFO = def(
  'imap_tls_info',
  ['target', 'version', 'cipher'],
  (s) => `TLS version and cipher negotiated in ${targetProbeOf(s)}; value always 1.`,
);
export const CAPABILITY = def(
  'imap_server_capability',
  ['target', 'capability', 'when'],
  (s) =>
    `CAPABILITY advertised (upper-cased) in ${targetProbeOf(s)}, by when: pre_tls (plaintext, before STARTTLS), ` +
    'post_tls (encrypted, before login), post_login; value always 1.',
);

// /metrics only: across runs, and the exporter's own state.
export const LAST_RUN = def(
  'imap_probe_last_run_timestamp_seconds',
  JOB,
  () => 'When the latest scheduled probe ended, seconds since the epoch.',
);
export const LAST_SUCCESS = def(
  'imap_probe_last_success_timestamp_seconds',
  JOB,
  () => 'When a scheduled probe last passed every stage, seconds since the epoch; absent until one has.',
);
export const PROBES_TOTAL = def('imap_probes_total', JOB, () => 'Scheduled probes run since the exporter started.');
export const FAILURES_TOTAL = def(
  'imap_probe_failures_total',
  [...JOB, 'phase', 'reason'],
  () => 'Scheduled probes that failed since the exporter started, by failed stage and reason.',
);
export const SKIPPED_TOTAL = def(
  'imap_probe_skipped_total',
  JOB,
  () => 'Scheduled runs skipped because the previous run of the same probe was still running.',
);
export const STAGE_LATENCY = def(
  'imap_probe_phase_latency_seconds',
  ['target', 'phase'],
  () =>
    'Seconds each stage took when it succeeded, over every scheduled probe since the exporter started ' +
    '(a failed stage measures time-to-fail and is counted in imap_probe_failures_total instead).',
);
export const RELOAD_SUCCESSFUL = def(
  'imap_exporter_config_last_reload_successful',
  [],
  () => '1 if the last configuration reload succeeded, 0 after a failed one (the previous configuration keeps running).',
);
export const RELOAD_TIMESTAMP = def(
  'imap_exporter_config_last_reload_success_timestamp_seconds',
  [],
  () => 'When the configuration was last loaded successfully, seconds since the epoch.',
);
export const BUILD_INFO = def(
  'imap_exporter_build_info',
  ['version', 'node_version'],
  () => 'Version of imap_exporter and of Node.js running it; value always 1.',
);
export const EVENT_LOOP_STALL = def(
  'imap_exporter_eventloop_stall_seconds',
  [],
  () =>
    'Longest the event loop was blocked in the last 60 s (a 10 ms timer that fired this much late). ' +
    'Probe timings taken during a stall are too long by up to this much. nodejs_eventloop_lag_* sample differently and can miss a single long stall.',
);
export const EVENT_LOOP_STALL_CPU_WAIT = def(
  'imap_exporter_eventloop_stall_cpu_wait_seconds',
  [],
  () =>
    'Of the stall in imap_exporter_eventloop_stall_seconds, how long the event-loop thread was ready to run but had no CPU ' +
    '(other processes, or a CPU limit throttling the container). Close to the stall: give the exporter CPU; far below it: the exporter\'s own work held the loop. Linux only.',
);
export const JOBS = def(
  'imap_exporter_jobs',
  [],
  () => 'Probe jobs (target and account pairs) this exporter schedules: all of the config\'s, or with --shard.count this shard\'s share.',
);
export const SHARD_INFO = def(
  'imap_exporter_shard_info',
  ['index', 'count'],
  () => 'The share of the config\'s jobs this replica runs (--shard.index of --shard.count; 0 of 1 when not sharded); value always 1.',
);

/** From a fast local resolve or connect (ms) to a slow LIST or a login behind a remote auth backend (s). */
export const STAGE_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
