/**
 * promtool (Debian's prometheus package, which CI installs) on the deployment's Prometheus
 * files: both configs, the rules, the rules' unit tests, the PrometheusRule's copy of the rules
 * and the short-for: copy an end-to-end test would load. A missing promtool fails the suite.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import {
  PROMETHEUS_RULE_PATH,
  PROMTOOL_INSTALL,
  RULES_PATH,
  readRepoFile,
  renderKustomization,
  repoPath,
  runTool,
  tempDir,
  withShortFor,
} from '../unit/deploy-lib.test.js';

const promtool = (...args: string[]) => runTool('promtool', args, PROMTOOL_INSTALL);

function assertSuccess(r: { status: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
}

test('promtool is installed', () => {
  const r = promtool('--version');
  assertSuccess(r, 'promtool --version');
  assert.match(r.stdout + r.stderr, /promtool, version \d+\.\d+/);
});

for (const config of ['deploy/prometheus/prometheus.yml', 'deploy/prometheus/probe-mode.yml']) {
  test(`promtool check config ${config} (its rule_files resolve)`, () => {
    const r = promtool('check', 'config', repoPath(config));
    assertSuccess(r, 'check config');
    assert.match(r.stdout, /SUCCESS: 1 rule files found/);
    assert.match(r.stdout, /SUCCESS: 11 rules found/);
  });
}

test('promtool check rules on the rules file', () => {
  const r = promtool('check', 'rules', repoPath(RULES_PATH));
  assertSuccess(r, 'check rules');
  assert.match(r.stdout, /SUCCESS: 11 rules found/);
});

test('promtool test rules: every alert fires and stays silent as its unit tests expect', () => {
  const r = promtool('test', 'rules', repoPath('deploy/prometheus/rules/imap-exporter.rules.test.yaml'));
  assertSuccess(r, 'test rules');
  assert.match(r.stdout, /SUCCESS/);
});

test('promtool check rules on the PrometheusRule spec and on the short-for: copy', () => {
  const { dir, cleanup } = tempDir('imap-exporter-rules-');
  try {
    const rule = renderKustomization(repoPath('deploy/kubernetes/monitoring')).find((o) => o.kind === 'PrometheusRule');
    assert.ok(rule, PROMETHEUS_RULE_PATH);
    const fromK8s = path.join(dir, 'prometheusrule-groups.yaml');
    writeFileSync(fromK8s, stringify({ groups: (rule.spec as { groups: unknown }).groups }));
    assertSuccess(promtool('check', 'rules', fromK8s), 'check rules (PrometheusRule)');
    const short = path.join(dir, 'short.rules.yaml');
    writeFileSync(short, withShortFor(readRepoFile(RULES_PATH), '10s'));
    assertSuccess(promtool('check', 'rules', short), 'check rules (short for:)');
  } finally {
    cleanup();
  }
});

test('promtool test rules would catch a wrong expectation (the unit tests are not vacuous)', () => {
  const { dir, cleanup } = tempDir('imap-exporter-rules-');
  try {
    writeFileSync(path.join(dir, 'imap-exporter.rules.yaml'), readRepoFile(RULES_PATH));
    const broken = readRepoFile('deploy/prometheus/rules/imap-exporter.rules.test.yaml').replace(
      'reason: connection_refused}',
      'reason: timeout}',
    );
    writeFileSync(path.join(dir, 'broken.test.yaml'), broken);
    const r = promtool('test', 'rules', path.join(dir, 'broken.test.yaml'));
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /FAILED/);
  } finally {
    cleanup();
  }
});
