/**
 * Debian's prometheus binary loading deploy/prometheus/*.yml, scraping a stand-in exporter on
 * loopback that serves CONTRACT §3 metrics for a failing login:
 * - scheduled mode: the series arrive with job/instance, ImapLoginFailing fires (for: shortened
 *   by withShortFor) with reason="auth_failed" and its hint, and every dashboard query parses
 *   and returns data;
 * - probe mode: the relabelling sends ?target= (and ?account=) to the exporter and sets instance.
 * The end-to-end test against the real daemon is to reuse startPrometheus with the real exporter.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  DASHBOARD_PATH,
  RULES_PATH,
  promqlInDashboard,
  readRepoFile,
  startPrometheus,
  withShortFor,
} from '../unit/deploy-lib.test.js';

/** What /metrics would show after `n` probes: courier-main's login fails, dovecot-local passes. */
function metricsText(n: number, now: number): string {
  const fail = 'target="courier-main",account="probe-user"';
  const ok = 'target="dovecot-local",account="probe"';
  const lines: string[] = [];
  const family = (name: string, type: string, samples: string[]): void => {
    lines.push(`# HELP ${name} Latest scheduled result.`, `# TYPE ${name} ${type}`, ...samples);
  };
  const okStages = ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout'];
  const failStages = ['resolve', 'connect', 'tls', 'greeting'];
  family('imap_probe_success', 'gauge', [`imap_probe_success{${fail}} 0`, `imap_probe_success{${ok}} 1`]);
  family('imap_probe_stage_success', 'gauge', [
    ...failStages.map((s) => `imap_probe_stage_success{${fail},stage="${s}"} 1`),
    `imap_probe_stage_success{${fail},stage="login"} 0`,
    ...okStages.map((s) => `imap_probe_stage_success{${ok},stage="${s}"} 1`),
  ]);
  family('imap_probe_stage_duration_seconds', 'gauge', [
    ...[...failStages, 'login'].map((s) => `imap_probe_stage_duration_seconds{${fail},stage="${s}"} 0.05`),
    ...okStages.map((s) => `imap_probe_stage_duration_seconds{${ok},stage="${s}"} 0.002`),
  ]);
  family('imap_probe_duration_seconds', 'gauge', [`imap_probe_duration_seconds{${fail}} 0.3`, `imap_probe_duration_seconds{${ok}} 0.02`]);
  const histogram: string[] = [];
  for (const [target, stages] of [['courier-main', failStages], ['dovecot-local', okStages]] as const) {
    for (const s of stages) {
      const l = `target="${target}",stage="${s}"`;
      histogram.push(
        `imap_probe_stage_latency_seconds_bucket{${l},le="0.01"} ${target === 'dovecot-local' ? n : 0}`,
        `imap_probe_stage_latency_seconds_bucket{${l},le="0.1"} ${n}`,
        `imap_probe_stage_latency_seconds_bucket{${l},le="+Inf"} ${n}`,
        `imap_probe_stage_latency_seconds_sum{${l}} ${n * 0.05}`,
        `imap_probe_stage_latency_seconds_count{${l}} ${n}`,
      );
    }
  }
  family('imap_probe_stage_latency_seconds', 'histogram', histogram);
  family('imap_probes_total', 'counter', [`imap_probes_total{${fail}} ${n}`, `imap_probes_total{${ok}} ${n}`]);
  family('imap_probe_failures_total', 'counter', [`imap_probe_failures_total{${fail},stage="login",reason="auth_failed"} ${n}`]);
  family('imap_probe_last_run_timestamp_seconds', 'gauge', [
    `imap_probe_last_run_timestamp_seconds{${fail}} ${now}`,
    `imap_probe_last_run_timestamp_seconds{${ok}} ${now}`,
  ]);
  family('imap_probe_last_success_timestamp_seconds', 'gauge', [`imap_probe_last_success_timestamp_seconds{${ok}} ${now}`]);
  family('imap_tls_cert_not_after_timestamp_seconds', 'gauge', [
    `imap_tls_cert_not_after_timestamp_seconds{target="courier-main"} ${now + 90 * 86400}`,
    `imap_tls_cert_not_after_timestamp_seconds{target="dovecot-local"} ${now + 365 * 86400}`,
  ]);
  family('imap_tls_info', 'gauge', [`imap_tls_info{target="dovecot-local",version="TLSv1.3",cipher="TLS_AES_256_GCM_SHA384"} 1`]);
  family('imap_server_capability', 'gauge', ['IMAP4rev1', 'STARTTLS', 'LOGINDISABLED'].map((c) => `imap_server_capability{target="dovecot-local",capability="${c}"} 1`));
  const mailbox = `${ok},mailbox="INBOX"`;
  family('imap_mailbox_messages', 'gauge', [`imap_mailbox_messages{${mailbox}} 12`]);
  family('imap_mailbox_recent', 'gauge', [`imap_mailbox_recent{${mailbox}} 1`]);
  family('imap_mailbox_uidvalidity', 'gauge', [`imap_mailbox_uidvalidity{${mailbox}} 1700000000`]);
  family('imap_mailbox_writable', 'gauge', [`imap_mailbox_writable{${mailbox}} 1`]);
  family('imap_folders', 'gauge', [`imap_folders{${ok},pattern="*"} 3`]);
  family('imap_exporter_config_last_reload_successful', 'gauge', ['imap_exporter_config_last_reload_successful 1']);
  family('imap_exporter_config_last_reload_success_timestamp_seconds', 'gauge', [`imap_exporter_config_last_reload_success_timestamp_seconds ${now - 60}`]);
  family('imap_exporter_build_info', 'gauge', ['imap_exporter_build_info{version="0.1.0",node_version="v20.0.0"} 1']);
  return `${lines.join('\n')}\n`;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type Config = {
  global: Record<string, unknown>;
  rule_files: string[];
  scrape_configs: { static_configs: { targets: string[] }[]; relabel_configs?: { replacement?: string }[]; [k: string]: unknown }[];
};

/** A deploy/prometheus config made fast: 1s scrapes and evaluations. */
function fastConfig(file: string): Config {
  const config = parse(readRepoFile(file)) as Config;
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  for (const job of config.scrape_configs) Object.assign(job, { scrape_interval: '1s', scrape_timeout: '1s' });
  assert.deepEqual(config.rule_files, ['rules/imap-exporter.rules.yaml']);
  config.rule_files = ['imap-exporter.rules.yaml'];
  return config;
}

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

test('scheduled mode: prometheus.yml scrapes the exporter, ImapLoginFailing fires with its reason, dashboard queries answer', async () => {
  let scrapes = 0;
  const paths: string[] = [];
  const exporter = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metricsText(++scrapes, Math.floor(Date.now() / 1000)));
  });
  const address = await listen(exporter);
  const config = fastConfig('deploy/prometheus/prometheus.yml');
  const job = config.scrape_configs[0];
  assert.ok(job && job.job_name === 'imap_exporter' && job.metrics_path === '/metrics' && job.honor_labels === false);
  assert.deepEqual(job.static_configs, [{ targets: ['127.0.0.1:10043'] }]);
  job.static_configs = [{ targets: [address] }];
  const prometheus = await startPrometheus(config, { 'imap-exporter.rules.yaml': withShortFor(readRepoFile(RULES_PATH), '2s') });
  try {
    const series = await prometheus.waitFor('imap_probe_success', async () => {
      const data = (await prometheus.api('/api/v1/query?query=imap_probe_success')) as { result: { metric: Record<string, string> }[] };
      return data.result.length === 2 ? data.result : undefined;
    });
    for (const s of series) assert.deepEqual([s.metric.job, s.metric.instance], ['imap_exporter', address]);

    const alert = await prometheus.waitFor('ImapLoginFailing to fire', async () => {
      const data = (await prometheus.api('/api/v1/alerts')) as { alerts: Alert[] };
      return data.alerts.find((a) => a.labels.alertname === 'ImapLoginFailing' && a.state === 'firing' && a.labels.reason === 'auth_failed');
    });
    assert.deepEqual(
      { ...alert.labels },
      {
        alertname: 'ImapLoginFailing', severity: 'critical', job: 'imap_exporter', instance: address,
        target: 'courier-main', account: 'probe-user', stage: 'login', reason: 'auth_failed',
      },
    );
    assert.match(alert.annotations.description ?? '', /^courier-main \(account probe-user\): stage login failed on every probe, reason auth_failed: NO to LOGIN\/AUTHENTICATE/);

    // Every dashboard query, with Grafana's variables set as for "All", parses and finds data.
    const queries = promqlInDashboard(JSON.parse(readRepoFile(DASHBOARD_PATH)));
    for (const q of queries) {
      const promql = q
        .replace(/^label_values\((.*),\s*\w+\)$/, '$1')
        .replace(/\$(target|account|stage)\b/g, '.*')
        .replace(/\$__rate_interval|\$__range|\$__interval/g, '1m');
      const data = (await prometheus.api(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as { result: unknown[] };
      assert.ok(data.result.length > 0, `no data for dashboard query ${q}`);
    }
    assert.ok(paths.every((p) => p === '/metrics'));
  } finally {
    await prometheus.stop();
    await new Promise((resolve) => exporter.close(resolve));
  }
});

test('probe mode: probe-mode.yml passes target and account to /probe and names the instance', async () => {
  const probes = new Set<string>();
  const exporter = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    url.searchParams.sort();
    probes.add(`${url.pathname}?${url.searchParams.toString()}`);
    const target = url.searchParams.get('target') ?? '';
    const account = url.searchParams.get('account');
    const labels = account ? `target="${target}",account="${account}"` : `target="${target}"`;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`# TYPE imap_probe_success gauge\nimap_probe_success{${labels}} 1\n`);
  });
  const address = await listen(exporter);
  const config = fastConfig('deploy/prometheus/probe-mode.yml');
  const job = config.scrape_configs[0];
  assert.ok(job && job.metrics_path === '/probe');
  const toExporter = job.relabel_configs?.find((r) => r.replacement === '127.0.0.1:10043');
  assert.ok(toExporter, '__address__ is rewritten to the exporter');
  toExporter.replacement = address;
  const prometheus = await startPrometheus(config, { 'imap-exporter.rules.yaml': readRepoFile(RULES_PATH) });
  try {
    const instances = await prometheus.waitFor('three probe targets up', async () => {
      const data = (await prometheus.api('/api/v1/query?query=up%7Bjob%3D%22imap_probe%22%7D%3D%3D1')) as {
        result: { metric: Record<string, string> }[];
      };
      return data.result.length === 3 ? data.result.map((r) => r.metric.instance).sort() : undefined;
    });
    assert.deepEqual(instances, ['courier-main', 'courier-main/probe-user', 'dovecot-edge']);
    assert.deepEqual([...probes].sort(), [
      '/probe?account=probe-user&target=courier-main',
      '/probe?target=courier-main',
      '/probe?target=dovecot-edge',
    ]);
    const data = (await prometheus.api(`/api/v1/query?query=${encodeURIComponent('imap_probe_success{account="probe-user"}')}`)) as {
      result: { metric: Record<string, string> }[];
    };
    assert.deepEqual(data.result.map((r) => [r.metric.instance, r.metric.target, r.metric.job]), [
      ['courier-main/probe-user', 'courier-main', 'imap_probe'],
    ]);
  } finally {
    await prometheus.stop();
    await new Promise((resolve) => exporter.close(resolve));
  }
});
