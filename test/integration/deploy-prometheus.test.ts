/**
 * End to end, on loopback: a real Dovecot, the real exporter (dist/src/main.js) probing it, and
 * Debian's prometheus binary loading deploy/prometheus/*.yml (rewritten only for addresses,
 * intervals and a test copy of the rules with every for: shortened by withShortFor).
 * - the Grafana dashboard and the alert rules select only metric names that a real /metrics
 *   scrape of the running exporter contains;
 * - scheduled mode (prometheus.yml): alice's imap_probe_success is 1 in Prometheus, the wrong
 *   password makes ImapLoginFailing go pending and then fire with reason="auth_failed" and its
 *   hint, every rule evaluates without error and every dashboard query answers with data;
 * - probe mode (probe-mode.yml): the relabelling sends ?target= (and ?account=) to the
 *   exporter's /probe and names the instance; the probed good account's success is 1.
 * One Dovecot, one exporter and both Prometheus servers serve the whole file. A missing dovecot
 * or prometheus fails every test of the file (CI installs them: .ci/run).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { find, type Sample } from '../helpers/exposition.js';
import { dovecotTarget, exporterConfig, imapsTarget, writePasswordFiles } from '../helpers/exporter-config.js';
import {
  DASHBOARD_PATH,
  PROMETHEUS_METRICS,
  RULES_PATH,
  metricNamesInDashboard,
  metricNamesInPromQL,
  parseRuleGroups,
  promqlInDashboard,
  readRepoFile,
  startPrometheus,
  withShortFor,
  type RunningPrometheus,
} from '../unit/deploy-lib.test.js';

const alice = { target: 'dovecot', account: 'alice' };
const bob = { target: 'dovecot', account: 'bob-wrong' };
const imaps = { target: 'dovecot-imaps' };

type Config = {
  global: Record<string, unknown>;
  rule_files: string[];
  scrape_configs: {
    job_name: string;
    metrics_path?: string;
    honor_labels?: boolean;
    static_configs: { targets: string[]; labels?: Record<string, string> }[];
    relabel_configs?: { replacement?: string; target_label?: string }[];
    [k: string]: unknown;
  }[];
};

/** A deploy/prometheus config made fast: `interval` scrapes, 1s evaluations, the rules next to it. */
function fastConfig(file: string, interval: string): Config {
  const config = parse(readRepoFile(file)) as Config;
  config.global = { ...config.global, scrape_interval: interval, evaluation_interval: '1s' };
  assert.equal(config.scrape_configs.length, 1);
  for (const job of config.scrape_configs) Object.assign(job, { scrape_interval: interval, scrape_timeout: interval });
  assert.deepEqual(config.rule_files, ['rules/imap-exporter.rules.yaml']);
  config.rule_files = ['imap-exporter.rules.yaml'];
  return config;
}

/** prometheus.yml scraping the exporter at `address` every second. */
function scheduledConfig(address: string): Config {
  const config = fastConfig('deploy/prometheus/prometheus.yml', '1s');
  const job = config.scrape_configs[0];
  assert.ok(job && job.job_name === 'imap_exporter' && job.metrics_path === '/metrics' && job.honor_labels === false);
  assert.deepEqual(job.static_configs, [{ targets: ['127.0.0.1:10043'] }]);
  job.static_configs = [{ targets: [address] }];
  return config;
}

/** probe-mode.yml with this file's targets and accounts, its __address__ rewritten to `address`. */
function probeModeConfig(address: string): Config {
  // 2s: a scrape of /probe runs a probe, whose deadline is the scrape timeout less 0.5s.
  const config = fastConfig('deploy/prometheus/probe-mode.yml', '2s');
  const job = config.scrape_configs[0];
  assert.ok(job && job.job_name === 'imap_probe' && job.metrics_path === '/probe');
  assert.deepEqual(job.static_configs, [
    { targets: ['courier-main', 'dovecot-edge'] },
    { targets: ['courier-main'], labels: { __param_account: 'probe-user' } },
  ]);
  job.static_configs = [
    { targets: ['dovecot', 'dovecot-imaps'] },
    { targets: ['dovecot'], labels: { __param_account: 'alice' } },
    { targets: ['dovecot'], labels: { __param_account: 'bob-wrong' } },
  ];
  const toExporter = job.relabel_configs?.find((r) => r.target_label === '__address__' && r.replacement === '127.0.0.1:10043');
  assert.ok(toExporter, '__address__ is rewritten to the exporter');
  toExporter.replacement = address;
  return config;
}

let dovecot: DovecotServer | undefined;
let daemon: RunningDaemon | undefined;
/** The exporter's host:port, as Prometheus scrapes it. */
let exporter: string;
/** A /metrics scrape taken once alice has passed, bob has failed and the TLS target has passed. */
let scrape: Sample[];
/** Prometheus on prometheus.yml (rules with for: 2s) and on probe-mode.yml (for: 4s, two of its scrapes). */
let scheduled: RunningPrometheus | undefined;
let probeMode: RunningPrometheus | undefined;

before(async () => {
  dovecot = await startDovecot();
  await writePasswordFiles(dovecot);
  const config = join(dovecot.dir, 'exporter.yaml');
  // dovecot: STARTTLS with a good and a wrong-password account; dovecot-imaps: implicit TLS,
  // unauthenticated. Both present the CA-signed certificate, so the TLS panels have data.
  await writeFile(config, exporterConfig(dovecot, { interval: '1s', timeout: '900ms' }, [dovecotTarget(dovecot), imapsTarget(dovecot)]));
  const d = (daemon = await startDaemon(config));
  exporter = new URL(d.url).host;
  const configs = [scheduledConfig(exporter), probeModeConfig(exporter)] as const;
  // Prometheus 2.42 applies its scrape targets about 5s after start: start both at once, while
  // the exporter runs its first probes.
  const [scraped, first, second] = await Promise.allSettled([
    d.waitFor('alice and dovecot-imaps to pass, bob to fail with auth_failed', async () => {
      const samples = await d.scrape();
      const ok =
        find(samples, 'imap_probe_success', alice)?.value === 1 &&
        find(samples, 'imap_probe_success', imaps)?.value === 1 &&
        (find(samples, 'imap_probe_failures_total', { ...bob, phase: 'login', reason: 'auth_failed' })?.value ?? 0) >= 1;
      return ok ? samples : undefined;
    }),
    startPrometheus(configs[0], { 'imap-exporter.rules.yaml': withShortFor(readRepoFile(RULES_PATH), '2s') }),
    startPrometheus(configs[1], { 'imap-exporter.rules.yaml': withShortFor(readRepoFile(RULES_PATH), '4s') }),
  ]);
  if (first.status === 'fulfilled') scheduled = first.value;
  if (second.status === 'fulfilled') probeMode = second.value;
  for (const r of [scraped, first, second]) if (r.status === 'rejected') throw r.reason;
  if (scraped.status === 'fulfilled') scrape = scraped.value;
});

after(async () => {
  await scheduled?.stop();
  await probeMode?.stop();
  await daemon?.stop('SIGKILL');
  await dovecot?.stop();
});

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

async function query(p: RunningPrometheus, promql: string): Promise<Series[]> {
  const data = (await p.api(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as { resultType: string; result: Series[] | unknown };
  assert.equal(data.resultType, 'vector', promql);
  return data.result as Series[];
}

const HINT_AUTH_FAILED = /reason auth_failed: NO to LOGIN\/AUTHENTICATE: the credentials were rejected \(wrong password or unknown login id; the server's auth log tells which, e\.g\. Courier's DEBUG_LOGIN\)\. /;

test('the dashboard and the rules select only metric names of a real /metrics scrape', () => {
  const scraped = new Set(scrape.map((s) => s.name));
  const dashboard = metricNamesInDashboard(JSON.parse(readRepoFile(DASHBOARD_PATH)));
  assert.ok(dashboard.length >= 15, `the dashboard queries ${dashboard.join(', ')}`);
  assert.deepEqual(dashboard.filter((n) => !scraped.has(n)), [], 'dashboard metrics missing from /metrics');
  const rules = parseRuleGroups(readRepoFile(RULES_PATH)).flatMap((g) => g.rules.flatMap((r) => metricNamesInPromQL(r.expr)));
  const missing = [...new Set(rules)].filter((n) => !scraped.has(n) && !PROMETHEUS_METRICS.has(n));
  assert.deepEqual(missing, [], 'rule metrics missing from /metrics');
});

test('scheduled mode: prometheus.yml scrapes the exporter, alice passes, ImapLoginFailing fires for bob with its reason, every rule and dashboard query answers', async () => {
  const p = scheduled;
  assert.ok(p);

  const [good] = await p.waitFor('imap_probe_success{account="alice"} == 1', async () => {
    const result = await query(p, 'imap_probe_success{account="alice"} == 1');
    return result.length === 1 ? result : undefined;
  });
  assert.deepEqual(good?.metric, { __name__: 'imap_probe_success', job: 'imap_exporter', instance: exporter, ...alice });

  // The failure alert: first under its reason (needs two samples of the failure counter), then firing after for: 2s.
  const isBobs = (a: Alert): boolean => a.labels.alertname === 'ImapLoginFailing' && a.labels.account === 'bob-wrong' && a.labels.reason === 'auth_failed';
  const pending = await p.waitFor('ImapLoginFailing for bob-wrong, reason auth_failed', async () => {
    const { alerts } = (await p.api('/api/v1/alerts')) as { alerts: Alert[] };
    return alerts.find(isBobs);
  });
  assert.ok(['pending', 'firing'].includes(pending.state), pending.state);
  const firing = await p.waitFor('ImapLoginFailing for bob-wrong to fire', async () => {
    const { alerts } = (await p.api('/api/v1/alerts')) as { alerts: Alert[] };
    const mine = alerts.find((a) => isBobs(a) && a.state === 'firing');
    // Nothing else may fire: alice and the TLS target pass, the certificate is valid for years.
    return mine ? { mine, others: alerts.filter((a) => a !== mine && a.state === 'firing') } : undefined;
  });
  assert.deepEqual(
    { ...firing.mine.labels },
    {
      alertname: 'ImapLoginFailing', severity: 'critical', job: 'imap_exporter', instance: exporter,
      ...bob, phase: 'login', reason: 'auth_failed',
    },
  );
  assert.match(firing.mine.annotations.description ?? '', /^dovecot \(account bob-wrong\): stage login failed on every probe, /);
  assert.match(firing.mine.annotations.description ?? '', HINT_AUTH_FAILED);
  assert.equal(firing.mine.annotations.summary, 'IMAP login failing on dovecot for account bob-wrong (auth_failed)');
  assert.deepEqual(firing.others.map((a) => a.labels), []);

  // Every rule has been evaluated against the real series without an error.
  const rules = await p.waitFor('every rule evaluated', async () => {
    const { groups } = (await p.api('/api/v1/rules')) as { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    const all = groups.flatMap((g) => g.rules);
    return all.length > 0 && all.every((r) => r.health !== 'unknown') ? all : undefined;
  });
  assert.deepEqual(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError ?? r.health}`), []);
  assert.equal(rules.length, parseRuleGroups(readRepoFile(RULES_PATH)).flatMap((g) => g.rules).length);

  // Every dashboard query, with Grafana's variables set as for "All", answers with data.
  const queries = promqlInDashboard(JSON.parse(readRepoFile(DASHBOARD_PATH)));
  assert.ok(queries.length >= 20, `${queries.length} dashboard queries`);
  const empty: string[] = [];
  for (const q of queries) {
    const promql = q
      .replace(/^label_values\((.*),\s*\w+\)$/, '$1')
      .replace(/\$(job|instance|target|account|phase)\b/g, '.*')
      .replace(/\$__rate_interval|\$__range|\$__interval/g, '1m');
    const result = await query(p, promql);
    if (result.length === 0) empty.push(q);
  }
  assert.deepEqual(empty, [], 'dashboard queries without data');
});

test('probe mode: probe-mode.yml passes target and account to the real /probe and names the instance', async () => {
  const p = probeMode;
  assert.ok(p);

  const up = await p.waitFor('four probe targets scraped', async () => {
    const result = await query(p, 'up{job="imap_probe"}');
    return result.length === 4 ? result : undefined;
  });
  assert.deepEqual(up.map((s) => [s.metric.instance, s.value[1]]).sort(), [
    ['dovecot', '1'], ['dovecot-imaps', '1'], ['dovecot/alice', '1'], ['dovecot/bob-wrong', '1'],
  ]);
  const success = await p.waitFor('every probe result stored, alice\'s a success', async () => {
    const result = await query(p, 'imap_probe_success{job="imap_probe"}');
    return result.length === 4 && result.some((s) => s.metric.instance === 'dovecot/alice' && s.value[1] === '1') ? result : undefined;
  });
  assert.deepEqual(
    success.map((s) => [s.metric.instance, s.metric.target, s.metric.account ?? '', s.value[1]]).sort(),
    [
      ['dovecot', 'dovecot', '', '1'],
      ['dovecot-imaps', 'dovecot-imaps', '', '1'],
      ['dovecot/alice', 'dovecot', 'alice', '1'],
      ['dovecot/bob-wrong', 'dovecot', 'bob-wrong', '0'],
    ],
  );
  const login = await query(p, 'imap_probe_phase_success{job="imap_probe", phase="login"}');
  assert.deepEqual(login.map((s) => [s.metric.instance, s.value[1]]).sort(), [['dovecot/alice', '1'], ['dovecot/bob-wrong', '0']]);

  // /probe carries imap_probe_failure_info, so the alert knows the reason without any counter.
  const firing = await p.waitFor('ImapLoginFailing for bob-wrong to fire in probe mode', async () => {
    const { alerts } = (await p.api('/api/v1/alerts')) as { alerts: Alert[] };
    const mine = alerts.find((a) => a.labels.alertname === 'ImapLoginFailing' && a.state === 'firing');
    return mine ? { mine, others: alerts.filter((a) => a !== mine && a.state === 'firing') } : undefined;
  });
  assert.deepEqual(
    { ...firing.mine.labels },
    {
      alertname: 'ImapLoginFailing', severity: 'critical', job: 'imap_probe', instance: 'dovecot/bob-wrong',
      ...bob, phase: 'login', reason: 'auth_failed',
    },
  );
  assert.match(firing.mine.annotations.description ?? '', HINT_AUTH_FAILED);
  assert.deepEqual(firing.others.map((a) => a.labels), [], 'nothing else fires in probe mode');
});
