import { STAGES } from '../probe/stages.js';
import type { ProbeJob, ProbeResult } from '../probe/types.js';
import type { JobResults } from '../scheduler/results.js';
import type { Shard } from '../scheduler/shard.js';
import { ago, escapeHtml, queryString } from './html.js';

export interface StatusPageView {
  nowMs: number;
  version: string;
  configPath: string;
  lastReloadSuccessful: boolean;
  /** The jobs this exporter schedules (with sharding, this shard's share). */
  jobs: readonly ProbeJob[];
  /** Which shard this is, and how many jobs the whole config has; omitted, not sharded. */
  shard?: Shard & { configuredJobs: number };
  results: (key: string) => JobResults | undefined;
  nextRunAt: (key: string) => number | undefined;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1em}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}td.n{text-align:right}
.ok{background:#d4f4d4}.fail{background:#f8c8c8;font-weight:bold}.none{color:#999}.pending{background:#eee}
.hint{color:#555;font-size:12px}caption{text-align:left;margin-bottom:.5em}`;

/**
 * The page an operator opens when an alert fires: every job, every stage's state
 * and time, the last failure with its hint, and one click to the transcript.
 * Plain HTML built as one string; no JavaScript, no build step.
 */
export function renderStatusPage(view: StatusPageView): string {
  const state = (job: ProbeJob) => {
    const latest = view.results(job.key)?.latest;
    return !latest ? 1 : latest.success ? 2 : 0;
  };
  // What is down comes first: that is what the operator opened the page for.
  const ordered = [...view.jobs].sort((a, b) => state(a) - state(b));
  const failing = ordered.filter((job) => state(job) === 0).length;
  const head = STAGES.map((stage) => `<th>${stage}</th>`).join('');
  const rows = ordered.map((job) => renderRow(job, view)).join('\n');
  const reload = view.lastReloadSuccessful ? '' : ' <b class="fail">the last config reload failed: see the logs</b>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30"><title>imap_exporter</title><style>${STYLE}</style></head>
<body><h1>imap_exporter</h1>
<p>${view.jobs.length} probe jobs, ${failing} failing. Config <code>${escapeHtml(view.configPath)}</code>.${reload}
Version ${escapeHtml(view.version)}. <a href="/metrics">/metrics</a></p>${shardLine(view)}
<table><caption>Latest scheduled probe per target × account, failing first; times in milliseconds. The page reloads every 30 s.</caption>
<thead><tr><th>target</th><th>account</th><th>state</th>${head}<th>last failure</th><th>last success</th><th>cert days left</th><th>next run</th><th>links</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}

function shardLine({ shard, jobs }: StatusPageView): string {
  if (!shard || shard.count === 1) return '';
  return `\n<p>Shard ${shard.index} of ${shard.count} (indexes 0–${shard.count - 1}): ${jobs.length} of the config's ${shard.configuredJobs} probe jobs`
    + ' are this shard\'s; the other replicas run the rest. "Probe now" runs any configured job here.</p>';
}

function renderRow(job: ProbeJob, view: StatusPageView): string {
  const results = view.results(job.key);
  const latest = results?.latest;
  const params = queryString({ target: job.target, account: job.account });
  const state = !latest ? '<td class="pending">pending</td>' : latest.success ? '<td class="ok">up</td>' : '<td class="fail">DOWN</td>';
  const cells = STAGES.map((stage) => stageCell(stage, latest)).join('');
  const lastSuccess = results?.lastSuccessAt === undefined ? 'never' : ago(results.lastSuccessAt, view.nowMs);
  const next = view.nextRunAt(job.key);
  return `<tr><td>${escapeHtml(job.target)}</td><td>${escapeHtml(job.account ?? '—')}</td>${state}${cells}<td>${failureCell(results)}</td>`
    + `<td>${lastSuccess}</td><td class="n">${certDays(latest, view.nowMs)}</td><td>${next === undefined ? '' : `in ${Math.max(0, Math.round((next - view.nowMs) / 1000))}s`}</td>`
    + `<td><a href="/transcript?${escapeHtml(params)}">transcript</a> <a href="/probe?${escapeHtml(params)}&amp;debug=true">probe now</a></td></tr>`;
}

function stageCell(stage: string, latest: ProbeResult | undefined): string {
  const outcome = latest?.stages.find((s) => s.stage === stage);
  if (!outcome) return '<td class="none">·</td>';
  const ms = (outcome.durationSeconds * 1000).toFixed(1);
  if (outcome.success) return `<td class="ok n">${ms}</td>`;
  return `<td class="fail n" title="${escapeHtml(latest?.failure?.reason ?? '')}">✗ ${ms}</td>`;
}

function failureCell(results: JobResults | undefined): string {
  const failed = results?.lastFailure;
  if (!results || !failed?.failure) return '';
  const { stage, reason, hint, detail } = failed.failure;
  const when = results.latest === failed ? 'latest probe' : `at ${new Date(failed.endedAt).toISOString()}`;
  return `<b>${escapeHtml(stage)}: ${escapeHtml(reason)}</b> (${when})<br><span class="hint">${escapeHtml(detail)}<br>hint: ${escapeHtml(hint)}</span>`;
}

function certDays(latest: ProbeResult | undefined, nowMs: number): string {
  const notAfter = latest?.facts.tls?.certNotAfter;
  if (notAfter === undefined) return '';
  return String(Math.floor((notAfter * 1000 - nowMs) / 86_400_000));
}
