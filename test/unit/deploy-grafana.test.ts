/**
 * The Grafana dashboard: importable JSON, a Prometheus datasource variable, target/account
 * variables, the panels the deployment promises, and only metric names the exporter exports.
 * (test/integration/deploy-prometheus.test.ts runs every query against a real Prometheus.)
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CONTRACT_METRICS,
  EXTENSION_METRICS_ON_DASHBOARD,
  DASHBOARD_PATH,
  PROMETHEUS_LABELS,
  definedMetrics,
  labelNamesInPromQL,
  metricNamesInDashboard,
  promqlInDashboard,
  readRepoFile,
  scrapedNames,
} from './deploy-lib.test.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query: string | { query: string };
  includeAll?: boolean;
  allValue?: string;
}
interface Dashboard {
  id: number | null;
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readRepoFile(DASHBOARD_PATH)) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');
const variable = (name: string): Variable => {
  const v = dashboard.templating.list.find((x) => x.name === name);
  assert.ok(v, `variable ${name}`);
  return v;
};
const queryOf = (v: Variable): string => (typeof v.query === 'string' ? v.query : v.query.query);

test('dashboard: importable (no id, fixed uid, schemaVersion 39), unique panel ids inside a 24-column grid', () => {
  assert.equal(dashboard.id, null);
  assert.equal(dashboard.uid, 'imap-exporter');
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
  for (const p of panels) {
    assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: inside the grid`);
  }
});

test('dashboard: ${datasource}, target and account variables; every query uses the datasource variable', () => {
  const ds = variable('datasource');
  assert.equal(ds.type, 'datasource');
  assert.equal(ds.query, 'prometheus');
  assert.equal(queryOf(variable('job')), 'label_values(imap_probe_success, job)');
  assert.equal(queryOf(variable('instance')), 'label_values(imap_probe_success{job=~"$job"}, instance)');
  assert.equal(queryOf(variable('target')), 'label_values(imap_probe_success{job=~"$job", instance=~"$instance"}, target)');
  assert.equal(queryOf(variable('account')), 'label_values(imap_probe_success{job=~"$job", instance=~"$instance", target=~"$target"}, account)');
  for (const name of ['job', 'instance', 'target', 'account', 'phase']) {
    const v = variable(name);
    assert.equal(v.includeAll, true);
    // ".*" rather than Grafana's default value list, so "All" also matches probes without an account.
    assert.equal(v.allValue, '.*');
  }
  for (const p of queryPanels) {
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title}: datasource`);
    assert.ok(p.targets && p.targets.length > 0, `${p.title}: has queries`);
    for (const t of p.targets) {
      assert.equal(t.datasource?.uid, '${datasource}', `${p.title}/${t.refId}: datasource`);
      if (/imap_(probe|mailbox|folders|tls|server)/.test(t.expr)) assert.match(t.expr, /target=~"\$target"/, `${p.title}: filters by $target`);
      // Every selector, so that sidecars (all named like their one target) never merge across pods.
      for (const selector of t.expr.matchAll(/\bimap_\w+(\{[^}]*\})?/g)) {
        assert.match(selector[1] ?? '', /^\{job=~"\$job", instance=~"\$instance"/, `${p.title}: ${selector[0]} selects $job and $instance`);
      }
      for (const grouping of t.expr.matchAll(/\bby \(([^)]*)\)/g)) {
        if (/\btarget\b/.test(grouping[1] ?? '')) assert.match(grouping[1] ?? '', /\binstance\b/, `${p.title}: groups by instance too`);
      }
    }
  }
});

test('dashboard: exported for sharing: __inputs asks for the Prometheus, __requires names Grafana and every panel type', () => {
  const shared = dashboard as unknown as {
    __inputs: { name: string; type: string; pluginId: string }[];
    __requires: { type: string; id: string }[];
  };
  assert.deepEqual(shared.__inputs.map((i) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
  const current = (variable('datasource') as unknown as { current: { value: string } }).current;
  assert.equal(current.value, '${DS_PROMETHEUS}', 'the import dialog fills the datasource variable');
  const required = new Set(shared.__requires.map((r) => `${r.type}/${r.id}`));
  assert.ok(required.has('grafana/grafana') && required.has('datasource/prometheus'));
  for (const type of new Set(queryPanels.map((p) => p.type))) assert.ok(required.has(`panel/${type}`), `__requires lists panel ${type}`);
});

test('dashboard: the promised panels exist', () => {
  const byMetric = (metric: string): Panel[] => queryPanels.filter((p) => p.targets?.some((t) => t.expr.includes(metric)));
  for (const metric of [
    'imap_probe_success', // probe success over time
    'imap_probe_phase_latency_seconds_bucket', // per-stage latency quantiles and heatmap
    'imap_probe_phase_duration_seconds', // stage durations of the last probe
    'imap_probe_failures_total', // failures by reason
    'imap_tls_cert_not_after_timestamp_seconds', // certificate days left
    'imap_folders', // folder counts
    'imap_mailbox_messages', // message counts
  ]) {
    assert.ok(byMetric(metric).length > 0, `a panel shows ${metric}`);
  }
  assert.ok(queryPanels.some((p) => p.type === 'heatmap'));
  assert.ok(byMetric('histogram_quantile(0.9').length > 0, 'a p90 panel');
  assert.ok(byMetric('by (instance, target, account, phase, reason)').length > 0, 'failures split by reason');
  const titled = (title: string): Panel => {
    const panel = queryPanels.find((p) => p.title === title);
    assert.ok(panel, `panel ${title}`);
    return panel;
  };
  assert.match(titled('Availability in the time range').targets?.[0]?.expr ?? '', /^100 \* avg by \(instance, target, account\) \(avg_over_time\(imap_probe_success\{/);
  assert.match(titled('Time since the last success').targets?.[0]?.expr ?? '', /^time\(\) - imap_probe_last_success_timestamp_seconds\{/);
  const status = titled('Status');
  assert.equal(status.type, 'table');
  assert.deepEqual(status.targets?.map((t) => t.expr.replace(/\{.*/, '')), ['imap_probe_success', 'imap_probe_failure_info', 'time() - imap_probe_last_success_timestamp_seconds']);
});

test('dashboard: metricNamesInDashboard finds only metrics of the contract (and the few extensions the README documents)', () => {
  const names = metricNamesInDashboard(dashboard);
  assert.ok(promqlInDashboard(dashboard).length >= queryPanels.length);
  const known = scrapedNames({ ...CONTRACT_METRICS, ...EXTENSION_METRICS_ON_DASHBOARD });
  assert.deepEqual(names.filter((n) => !known.has(n)), [], 'unknown metric names');
  assert.ok(names.length >= 15, `the dashboard covers the exporter's metrics (${names.join(', ')})`);
});

test('dashboard: metrics and labels as src/metrics/definitions.ts defines them (legends included)', () => {
  const defined = definedMetrics();
  const names = metricNamesInDashboard(dashboard);
  assert.deepEqual(names.filter((n) => !defined.has(n)), []);
  const labels = new Set([...PROMETHEUS_LABELS, ...names.flatMap((n) => defined.get(n) ?? [])]);
  for (const p of queryPanels) {
    for (const t of p.targets ?? []) {
      for (const l of labelNamesInPromQL(t.expr)) assert.ok(labels.has(l), `${p.title}: label ${l}`);
      for (const m of ((t as { legendFormat?: string }).legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
        assert.ok(labels.has(m[1] ?? ''), `${p.title}: legend label ${m[1]}`);
      }
    }
  }
});
