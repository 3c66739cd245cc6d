/**
 * The alerting rules, read as data: names, severities, annotations, the reason hints (the same
 * text as src/probe/reasons.ts), rewritable for: durations, metric names, and that the promtool
 * unit tests cover every alert firing and not firing. promtool itself runs in
 * test/integration/deploy-promtool.test.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { REASON_HINTS } from '../../src/probe/reasons.js';
import {
  CONTRACT_METRICS,
  PROMETHEUS_LABELS,
  PROMETHEUS_METRICS,
  RULES_PATH,
  definedMetrics,
  labelNamesInPromQL,
  metricNamesInPromQL,
  parseRuleGroups,
  readRepoFile,
  scrapedNames,
  withShortFor,
} from './deploy-lib.test.js';

const rulesText = readRepoFile(RULES_PATH);
const rules = parseRuleGroups(rulesText).flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert);
const FAILURE_ALERTS = ['ImapServerUnreachable', 'ImapLoginFailing', 'ImapProbeStageFailing'];

test('rules: every alert the deployment promises, each with a severity, summary and description', () => {
  assert.deepEqual(alerts.map((a) => a.alert).sort(), [
    'ImapCertificateExpired',
    'ImapCertificateExpiringSoon',
    'ImapExporterConfigReloadFailed',
    'ImapExporterDown',
    'ImapLoginFailing',
    'ImapMailboxQuotaNearlyFull',
    'ImapProbeStageFailing',
    'ImapProbesStale',
    'ImapServerUnreachable',
    'ImapStageSlow',
    'ImapUidValidityChanged',
  ]);
  for (const a of alerts) {
    assert.match(a.labels?.severity ?? '', /^(critical|warning|info)$/, `${a.alert}: severity`);
    assert.ok(a.annotations?.summary, `${a.alert}: summary`);
    assert.ok(a.annotations?.description, `${a.alert}: description`);
    if (!['ImapExporterConfigReloadFailed', 'ImapExporterDown'].includes(a.alert ?? '')) {
      assert.match(`${a.annotations.summary} ${a.annotations.description}`, /\$labels\.target/, `${a.alert}: names the target`);
    }
  }
});

test('rules: failure alerts carry target, account, stage and reason, and the hint of every reason', () => {
  for (const name of FAILURE_ALERTS) {
    const a = alerts.find((r) => r.alert === name);
    assert.ok(a);
    assert.match(a.expr, /^imap_probe_failure_info\{phase[=!~]+"[a-z|]+"\} == 1$/, `${name}: phase and reason from failure_info, in both modes`);
    const description = a.annotations?.description ?? '';
    for (const label of ['target', 'account', 'phase', 'reason']) assert.match(description, new RegExp(`\\$labels\\.${label}\\b`));
    const hints = Object.fromEntries(
      [...description.matchAll(/eq \$labels\.reason "([a-z_]+)" \}\} (.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    assert.deepEqual(hints, { ...REASON_HINTS }, `${name}: one hint per reason, as in src/probe/reasons.ts`);
  }
});

test('rules: every for: is one line "for: <duration>", so withShortFor shortens them all', () => {
  const forLines = rulesText.split('\n').filter((l) => /^\s*for:/.test(l));
  assert.equal(forLines.length, alerts.filter((a) => a.for !== undefined).length);
  for (const l of forLines) assert.match(l, /^\s+for: \d+[smhdwy]$/);
  const short = parseRuleGroups(withShortFor(rulesText, '10s')).flatMap((g) => g.rules);
  assert.deepEqual(
    short.filter((r) => r.for !== undefined).map((r) => r.for),
    alerts.filter((a) => a.for !== undefined).map(() => '10s'),
  );
  assert.deepEqual(short.map((r) => r.expr), rules.map((r) => r.expr), 'only the durations change');
});

test('rules: only metrics and labels of the contract and of src/metrics/definitions.ts', () => {
  const used = [...new Set(rules.flatMap((r) => metricNamesInPromQL(r.expr)))].filter((n) => !PROMETHEUS_METRICS.has(n)).sort();
  assert.ok(used.length >= 7, used.join(', '));
  const contract = scrapedNames(CONTRACT_METRICS);
  assert.deepEqual(used.filter((n) => !contract.has(n)), [], 'not in CONTRACT §3');
  const defined = definedMetrics();
  assert.deepEqual(used.filter((n) => !defined.has(n)), [], 'not in src/metrics/definitions.ts');
  const labels = new Set([...PROMETHEUS_LABELS, ...used.flatMap((n) => defined.get(n) ?? [])]);
  for (const r of rules) {
    for (const l of labelNamesInPromQL(r.expr)) assert.ok(labels.has(l), `${r.alert}: label ${l} is not on any metric it uses`);
    for (const text of Object.values(r.annotations ?? {})) {
      for (const m of text.matchAll(/\$labels\.(\w+)/g)) assert.ok(labels.has(m[1] ?? ''), `${r.alert}: $labels.${m[1]}`);
    }
  }
});

test('rules: the promtool unit tests cover every alert, firing and not firing', () => {
  const suite = parse(readRepoFile('deploy/prometheus/rules/imap-exporter.rules.test.yaml')) as {
    tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
  };
  const cases = suite.tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const a of alerts) {
    const mine = cases.filter((c) => c.alertname === a.alert);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${a.alert}: a firing case`);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${a.alert}: a not-firing case`);
  }
});

test('rules: every alert links its runbook, and deploy/README.md has that runbook', () => {
  const readme = readRepoFile('deploy/README.md');
  const runbooks = readme.slice(readme.indexOf('\n## Runbooks\n'));
  assert.ok(runbooks.length > 20, 'deploy/README.md has a Runbooks section');
  for (const a of alerts) {
    const name = a.alert ?? '';
    assert.equal(a.annotations?.runbook_url, `deploy/README.md#${name.toLowerCase()}`, name);
    const section = new RegExp(`\\n### ${name}\\n\\n\\*\\*Means:\\*\\*[^#]*\\*\\*Check:\\*\\*[^#]*\\*\\*Fix:\\*\\*`);
    assert.match(runbooks, section, `${name}: a runbook with Means, Check and Fix`);
  }
});
