/**
 * Helpers for the deploy-* tests (and the end-to-end test to come), with their own unit tests.
 * The tests at the bottom register only when this file is the test runner's entry point, so
 * importing the helpers from another test file does not run them again.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import * as definitions from '../../src/metrics/definitions.js';

/** A path in the repository; tests run with the repository root as cwd. */
export function repoPath(...parts: string[]): string {
  return path.resolve(process.cwd(), ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

// --- PromQL and the Grafana dashboard -------------------------------------------------------

const PROMQL_KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'bool', 'offset', 'inf', 'nan', 'atan2', 'start', 'end',
]);

/**
 * The metric names a PromQL expression selects: identifiers that are not functions, keywords,
 * label names (inside {…} or a grouping clause), numbers, durations or Grafana variables.
 * A heuristic, not a parser; good for the expressions we write, and tested below.
 */
export function metricNamesInPromQL(expr: string): string[] {
  let rest = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  // Grafana's label_values(metric{…}, label): only the first argument selects a metric.
  rest = rest.replace(/\blabel_values\s*\(([^,()]*),\s*\w+\s*\)/g, ' $1 ').replace(/\blabel_values\s*\(\s*\w+\s*\)/g, ' ');
  const names = new Set<string>();
  for (const m of rest.matchAll(/\d[\w.]*|[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const token = m[0];
    if (/^\d/.test(token)) continue;
    const after = rest.slice((m.index ?? 0) + token.length);
    if (/^\s*\(/.test(after)) continue;
    if (PROMQL_KEYWORDS.has(token.toLowerCase())) continue;
    names.add(token);
  }
  return [...names].sort();
}

/** Every PromQL query in a Grafana dashboard: panel targets, template variables, annotations. */
export function promqlInDashboard(dashboard: unknown): string[] {
  const queries: string[] = [];
  const walk = (node: unknown, inTemplating: boolean): void => {
    if (Array.isArray(node)) {
      node.forEach((n) => walk(n, inTemplating));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.expr === 'string') queries.push(obj.expr);
    if (inTemplating && obj.type === 'query') {
      const q = obj.query;
      if (typeof q === 'string') queries.push(q);
      else if (q && typeof q === 'object' && typeof (q as { query?: unknown }).query === 'string') {
        queries.push((q as { query: string }).query);
      }
    }
    for (const [key, value] of Object.entries(obj)) walk(value, inTemplating || key === 'templating');
  };
  walk(dashboard, false);
  return queries;
}

/**
 * The metric names (as scraped: histograms as *_bucket/_sum/_count) that a Grafana dashboard
 * queries. Compare with the names of a real /metrics scrape.
 */
export function metricNamesInDashboard(dashboard: unknown): string[] {
  const names = new Set<string>();
  for (const q of promqlInDashboard(dashboard)) for (const n of metricNamesInPromQL(q)) names.add(n);
  return [...names].sort();
}

/** A metric family's scraped names: a histogram's _bucket, _sum and _count too. */
export function scrapedNames(families: Record<string, 'gauge' | 'counter' | 'histogram'>): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of Object.entries(families)) {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

/**
 * The metric families of CONTRACT §3 (prom-client's default process metrics aside). The rules
 * and the dashboard may use these names only. The end-to-end test is to compare
 * metricNamesInDashboard with a real /metrics scrape instead.
 */
export const CONTRACT_METRICS: Record<string, 'gauge' | 'counter' | 'histogram'> = {
  imap_probe_success: 'gauge',
  imap_probe_phase_success: 'gauge',
  imap_probe_phase_duration_seconds: 'gauge',
  imap_probe_duration_seconds: 'gauge',
  imap_probe_phase_latency_seconds: 'histogram',
  imap_probes_total: 'counter',
  imap_probe_failures_total: 'counter',
  imap_probe_failure_info: 'gauge',
  imap_probe_interval_seconds: 'gauge',
  imap_probe_last_run_timestamp_seconds: 'gauge',
  imap_probe_last_success_timestamp_seconds: 'gauge',
  imap_tls_cert_not_after_timestamp_seconds: 'gauge',
  imap_tls_info: 'gauge',
  imap_server_capability: 'gauge',
  imap_mailbox_messages: 'gauge',
  imap_mailbox_recent: 'gauge',
  imap_mailbox_uidvalidity: 'gauge',
  imap_mailbox_writable: 'gauge',
  imap_folders: 'gauge',
  // CONTRACT §3's imap_quota_* (r2), as src/metrics/definitions.ts names them; with the other r2 server facts.
  imap_mailbox_uidnext: 'gauge',
  imap_mailbox_rights_info: 'gauge',
  imap_namespace_info: 'gauge',
  imap_quota_storage_usage_bytes: 'gauge',
  imap_quota_storage_limit_bytes: 'gauge',
  imap_quota_usage: 'gauge',
  imap_quota_limit: 'gauge',
  imap_exporter_config_last_reload_successful: 'gauge',
  imap_exporter_config_last_reload_success_timestamp_seconds: 'gauge',
  imap_exporter_build_info: 'gauge',
};

/** Metrics beyond the contract that the dashboard may show: the README documents them (Metrics table). */
export const EXTENSION_METRICS_ON_DASHBOARD: Record<string, 'gauge' | 'counter' | 'histogram'> = {
  imap_exporter_eventloop_stall_seconds: 'gauge',
  imap_exporter_eventloop_stall_cpu_wait_seconds: 'gauge',
};

/** The label names a PromQL expression matches on or groups by (not those it only creates). */
export function labelNamesInPromQL(expr: string): string[] {
  const rest = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const names = new Set<string>();
  for (const m of rest.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of (m[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) names.add(matcher[1] ?? '');
  }
  for (const m of rest.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const label of (m[1] ?? '').split(',')) if (label.trim() !== '') names.add(label.trim());
  }
  return [...names].sort();
}

/** Label names Prometheus adds or a histogram carries, valid on every series. */
export const PROMETHEUS_LABELS = ['job', 'instance', 'le', '__name__'];
/** Series Prometheus makes itself for every scrape target: never in an exporter's /metrics. */
export const PROMETHEUS_METRICS = new Set(['up']);

/** Metric names as scraped (a histogram's _bucket/_sum/_count too) → label names, from src/metrics/definitions.ts. */
export function definedMetrics(): Map<string, readonly string[]> {
  const defs = Object.values(definitions as Record<string, unknown>).filter(
    (v): v is definitions.MetricDef => typeof v === 'object' && v !== null && 'name' in v && 'labelNames' in v,
  );
  const byName = new Map(defs.map((d) => [d.name, d.labelNames] as const));
  const histogram = definitions.STAGE_LATENCY;
  for (const suffix of ['_bucket', '_sum', '_count']) byName.set(histogram.name + suffix, histogram.labelNames);
  return byName;
}

// --- Prometheus rules -----------------------------------------------------------------------

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export function parseRuleGroups(text: string): RuleGroup[] {
  const doc = parse(text) as { groups?: RuleGroup[] };
  assert.ok(Array.isArray(doc?.groups), 'a rules file has a "groups" list');
  return doc.groups;
}

/** Every "for:" of a rules file set to `duration`, e.g. 10s for an end-to-end test. */
export function withShortFor(rulesText: string, duration: string): string {
  return rulesText.replace(/^(\s*)for: \S+\s*$/gm, `$1for: ${duration}`);
}

export const DASHBOARD_PATH = 'deploy/grafana/imap-exporter-dashboard.json';
export const PROMETHEUS_RULE_PATH = 'deploy/kubernetes/monitoring/prometheusrule.yaml';
export const RULES_PATH = 'deploy/prometheus/rules/imap-exporter.rules.yaml';

/** The Prometheus Operator's PrometheusRule carrying the groups of the rules file. */
export function prometheusRuleFromRules(rulesText: string): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'imap-exporter', labels: { 'app.kubernetes.io/name': 'imap-exporter' } },
    spec: { groups: parseRuleGroups(rulesText) },
  };
}

// --- Kubernetes / kustomize ------------------------------------------------------------------

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

interface Generator {
  name: string;
  files?: string[];
}
interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const KUSTOMIZATION_KEYS = new Set(['apiVersion', 'kind', 'resources', 'configMapGenerator', 'secretGenerator', 'images']);

/**
 * What `kubectl kustomize DIR` yields, for the features our kustomizations use (resources,
 * generators from files, image overrides), less the generators' hash suffix. Anything else
 * is an error, so a new feature cannot slip past the checks unrendered.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  for (const key of Object.keys(k)) assert.ok(KUSTOMIZATION_KEYS.has(key), `${dir}/kustomization.yaml: unsupported key ${key}`);
  const objects: K8sObject[] = [];
  for (const file of k.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      assert.equal(doc.errors.length, 0, `${dir}/${file}: ${doc.errors.join('; ')}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj !== null) objects.push(obj);
    }
  }
  const generate = (gens: Generator[] | undefined, kind: 'ConfigMap' | 'Secret'): void => {
    for (const g of gens ?? []) {
      const data: Record<string, string> = {};
      for (const file of g.files ?? []) {
        const content = readFileSync(path.join(dir, file), 'utf8');
        data[path.basename(file)] = kind === 'Secret' ? Buffer.from(content).toString('base64') : content;
      }
      objects.push({ apiVersion: 'v1', kind, metadata: { name: g.name }, data });
    }
  };
  generate(k.configMapGenerator, 'ConfigMap');
  generate(k.secretGenerator, 'Secret');
  for (const container of objects.flatMap(containersOf)) {
    const override = (k.images ?? []).find((i) => i.name === container.image.split(':')[0]);
    if (override) container.image = `${override.newName ?? override.name}${override.newTag ? `:${override.newTag}` : ''}`;
  }
  return objects;
}

export interface Container {
  name: string;
  image: string;
  [key: string]: unknown;
}

export function podSpecOf(obj: K8sObject): Record<string, unknown> | undefined {
  const spec = obj.spec as { template?: { spec?: Record<string, unknown> } } | undefined;
  return spec?.template?.spec;
}

export function containersOf(obj: K8sObject): Container[] {
  return (podSpecOf(obj)?.containers as Container[] | undefined) ?? [];
}

/** A Secret's or ConfigMap's value as text, whether under data (base64) or stringData. */
export function dataValue(obj: K8sObject, key: string): string | undefined {
  const stringData = obj.stringData as Record<string, string> | undefined;
  if (stringData?.[key] !== undefined) return stringData[key];
  const data = obj.data as Record<string, string> | undefined;
  if (data?.[key] === undefined) return undefined;
  return obj.kind === 'Secret' ? Buffer.from(data[key], 'base64').toString('utf8') : data[key];
}

// --- .dockerignore --------------------------------------------------------------------------

function dockerPatternRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*' && pattern[i + 1] === '*') {
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether Docker leaves `file` (relative to the context) out of the build context: the last
 * pattern matching the file or one of its parent directories decides, "!" re-includes.
 */
export function dockerignoreExcludes(dockerignore: string, file: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      return { negate, re: dockerPatternRegExp(pattern) };
    });
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) excluded = !rule.negate;
  return excluded;
}

// --- external tools -------------------------------------------------------------------------

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion. A missing tool fails the test: CI installs every one we use. */
export function runTool(command: string, args: string[], install: string, cwd = process.cwd()): ToolResult {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    assert.fail(code === 'ENOENT' ? `${command} is not installed (${install})` : `${command}: ${r.error.message}`);
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const PROMTOOL_INSTALL = "Debian's prometheus package: apt-get install prometheus";

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningPrometheus {
  url: string;
  /** Prometheus' HTTP API, JSON `data` of a successful answer. */
  api: (pathAndQuery: string) => Promise<unknown>;
  /** Calls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
  waitFor: <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number) => Promise<T>;
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts Debian's prometheus binary on a loopback port with `config` written to a temp dir
 * (relative rule_files resolve against that dir), and waits until it is ready.
 */
export async function startPrometheus(config: unknown, files: Record<string, string> = {}): Promise<RunningPrometheus> {
  const { dir, cleanup } = tempDir('imap-exporter-prometheus-');
  writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'ENOENT' ? `prometheus is not installed (${PROMTOOL_INSTALL})` : e.message)),
    ),
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };
  const api = async (pathAndQuery: string): Promise<unknown> => {
    const res = await fetch(`${url}${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data?: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${body.error ?? res.status}`);
    return body.data;
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}) waiting for ${what}:\n${output}`);
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${output}`);
  };
  try {
    await Promise.race([
      spawnError,
      waitFor('readiness', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30_000),
    ]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, api, waitFor, log: () => output, stop };
}

// --- the helpers' own tests ----------------------------------------------------------------

const isEntryPoint = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (isEntryPoint) {
  test('metricNamesInPromQL skips functions, keywords, label names, durations and variables', () => {
    assert.deepEqual(
      metricNamesInPromQL(
        'histogram_quantile(0.9, sum by (le, target, phase) (rate(imap_probe_phase_latency_seconds_bucket{target=~"$target"}[$__rate_interval])))',
      ),
      ['imap_probe_phase_latency_seconds_bucket'],
    );
    assert.deepEqual(
      metricNamesInPromQL(
        '(imap_probe_phase_success{phase="login"} == 0) * on (job, target) group_left (reason) topk by (target) (1, increase(imap_probe_failures_total[15m]) > 0) or label_replace(up, "reason", "unknown", "", "")',
      ),
      ['imap_probe_failures_total', 'imap_probe_phase_success', 'up'],
    );
    assert.deepEqual(metricNamesInPromQL('(imap_tls_cert_not_after_timestamp_seconds - time()) / 86400 < 14 offset 5m'), [
      'imap_tls_cert_not_after_timestamp_seconds',
    ]);
    assert.deepEqual(metricNamesInPromQL('label_values(imap_probe_success{target=~"$target"}, account)'), ['imap_probe_success']);
    assert.deepEqual(metricNamesInPromQL('label_values(target)'), []);
    assert.deepEqual(metricNamesInPromQL('1e3 * foo:bar:rate5m'), ['foo:bar:rate5m']);
  });

  test('labelNamesInPromQL finds matcher and grouping labels, not string contents', () => {
    assert.deepEqual(
      labelNamesInPromQL(
        'sum by (le, target) (rate(x_bucket{phase=~"a|b", account!="{x=1}"}[5m])) * on (job) group_left (reason) label_replace(y, "new", "v", "", "")',
      ),
      ['account', 'job', 'le', 'phase', 'reason', 'target'],
    );
  });

  test('metricNamesInDashboard reads panel targets, nested rows and query variables', () => {
    const dashboard = {
      panels: [
        { targets: [{ expr: 'imap_probe_success' }] },
        { type: 'row', panels: [{ targets: [{ expr: 'sum(imap_folders) by (target)' }] }] },
      ],
      templating: {
        list: [
          { type: 'datasource', query: 'prometheus' },
          { type: 'query', query: { query: 'label_values(imap_probe_success, target)' } },
          { type: 'query', query: 'label_values(imap_mailbox_messages{target=~"$target"}, mailbox)' },
          { type: 'custom', query: 'a,b' },
        ],
      },
    };
    assert.deepEqual(metricNamesInDashboard(dashboard), ['imap_folders', 'imap_mailbox_messages', 'imap_probe_success']);
  });

  test('withShortFor rewrites every for: and nothing else', () => {
    const text = 'rules:\n  - alert: A\n    expr: x > 0\n    for: 5m\n  - alert: B\n    expr: y\n    for: 1h\n    labels: {for: keep}\n';
    assert.equal(
      withShortFor(text, '10s'),
      'rules:\n  - alert: A\n    expr: x > 0\n    for: 10s\n  - alert: B\n    expr: y\n    for: 10s\n    labels: {for: keep}\n',
    );
  });

  test('dockerignoreExcludes follows Docker: parents count, the last match wins, ! re-includes', () => {
    const ignore = '# comment\n*\n!package.json\n!src/\n**/*.pem\n';
    assert.equal(dockerignoreExcludes(ignore, 'node_modules/x/index.js'), true);
    assert.equal(dockerignoreExcludes(ignore, 'package.json'), false);
    assert.equal(dockerignoreExcludes(ignore, 'src/main.ts'), false);
    assert.equal(dockerignoreExcludes(ignore, 'src/tls/key.pem'), true);
    assert.equal(dockerignoreExcludes(ignore, 'key.pem'), true);
    assert.equal(dockerignoreExcludes('dist\n', 'dist/src/main.js'), true);
    assert.equal(dockerignoreExcludes('dist\n', 'src/dist.ts'), false);
  });
}
