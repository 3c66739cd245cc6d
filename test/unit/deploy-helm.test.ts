/**
 * The Helm chart (deploy/helm/imap-exporter), checked statically. There is no helm binary on
 * these machines (neither Debian bookworm nor the npm registry ships one), so nothing here
 * renders the templates, and `helm lint`/`helm template` are NOT run: what is checked is what can
 * be without Go's template engine. Chart.yaml's fields; values.yaml and ci/*.yaml parse; every
 * `.Values.…` path a template uses exists in values.yaml; every `include` names a `define`;
 * every template's blocks are balanced; the chart's copy of the rules equals the rules file; and
 * the exporter configs in the values pass the exporter's own loader.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { RULES_PATH, readRepoFile, repoPath, tempDir } from './deploy-lib.test.js';

const CHART = 'deploy/helm/imap-exporter';
const templates = readdirSync(repoPath(CHART, 'templates')).filter((f) => /\.(yaml|tpl|txt)$/.test(f));
const text = (file: string) => readRepoFile(path.posix.join(CHART, file));
const values = parse(text('values.yaml')) as Record<string, unknown>;

test('helm: Chart.yaml is a v2 application chart named for its directory, at the package\'s version', () => {
  const chart = parse(text('Chart.yaml')) as Record<string, string>;
  const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };
  assert.equal(chart.apiVersion, 'v2');
  assert.equal(chart.name, 'imap-exporter');
  assert.equal(chart.type, 'application');
  assert.match(chart.version ?? '', /^\d+\.\d+\.\d+$/);
  assert.equal(chart.appVersion, pkg.version, 'appVersion is the image tag the chart defaults to');
});

test('helm: every .Values path a template uses is in values.yaml', () => {
  const has = (keys: string[]): boolean => {
    let node: unknown = values;
    for (const key of keys) {
      if (node === null || typeof node !== 'object' || !(key in node)) return false;
      node = (node as Record<string, unknown>)[key];
    }
    return true;
  };
  let seen = 0;
  for (const file of templates) {
    for (const m of text(`templates/${file}`).matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      seen++;
      assert.ok(has((m[1] ?? '').slice(1).split('.')), `${file}: .Values${m[1]} is not in values.yaml`);
    }
  }
  assert.ok(seen > 40, `${seen} references checked`);
});

test('helm: includes name defined templates; if/range/with/define blocks are balanced in every file', () => {
  const helpers = text('templates/_helpers.tpl');
  const defined = new Set([...helpers.matchAll(/\{\{-?\s*define "([^"]+)"/g)].map((m) => m[1]));
  assert.ok(defined.size >= 5);
  for (const file of templates) {
    const body = text(`templates/${file}`);
    for (const m of body.matchAll(/\binclude "([^"]+)"/g)) assert.ok(defined.has(m[1]), `${file}: include "${m[1]}" is not defined`);
    let depth = 0;
    for (const action of body.matchAll(/\{\{-?\s*(\/\*[\s\S]*?\*\/|[^}]*?)\s*-?\}\}/g)) {
      const words = (action[1] ?? '').trim();
      if (words.startsWith('/*')) continue;
      if (/^(if|range|with|define|block)\b/.test(words)) depth++;
      if (/^end\b/.test(words)) depth--;
      assert.ok(depth >= 0, `${file}: an {{ end }} without a block`);
    }
    assert.equal(depth, 0, `${file}: every block is closed`);
  }
});

test('helm: the chart\'s rules are the rules file (Helm cannot read outside the chart)', () => {
  if (process.env.DEPLOY_REGENERATE === '1') writeFileSync(repoPath(CHART, 'files/imap-exporter.rules.yaml'), readRepoFile(RULES_PATH));
  assert.equal(text('files/imap-exporter.rules.yaml'), readRepoFile(RULES_PATH), `stale copy of ${RULES_PATH}: regenerate it (DEPLOY_REGENERATE=1)`);
});

test('helm: the toggles the chart promises are values', () => {
  assert.deepEqual(
    ['mode', 'config', 'credentials', 'webConfig', 'serviceMonitor', 'prometheusRule', 'networkPolicy', 'sidecar'].filter((k) => !(k in values)),
    [],
  );
  assert.equal(values.mode, 'standalone');
  for (const toggle of ['webConfig', 'serviceMonitor', 'prometheusRule', 'networkPolicy']) {
    assert.equal((values[toggle] as { enabled: boolean }).enabled, false, `${toggle} is off by default`);
  }
  const sidecar = parse(text('ci/sidecar-values.yaml')) as { mode: string; sidecar: { container: { name: string; image: string } } };
  assert.equal(sidecar.mode, 'sidecar');
  assert.match(sidecar.sidecar.container.image, /^dovecot\/dovecot:2\.3\./);
});

for (const file of ['values.yaml', 'ci/sidecar-values.yaml']) {
  test(`helm: the exporter config in ${file} passes the exporter's loader, its password files from credentials.files`, async () => {
    const v = parse(text(file)) as { config: { targets: { accounts?: { password_file?: string }[] }[] }; credentials?: { files?: Record<string, string> } };
    const files = { ...(values.credentials as { files: Record<string, string> }).files, ...v.credentials?.files };
    const { dir, cleanup } = tempDir('imap-exporter-helm-');
    try {
      let config = stringify(v.config);
      for (const account of v.config.targets.flatMap((t) => t.accounts ?? [])) {
        const mounted = account.password_file ?? '';
        assert.match(mounted, /^\/run\/secrets\/imap-exporter\/[\w.-]+$/, 'a file of the mounted credentials Secret');
        const key = path.posix.basename(mounted);
        assert.ok(files[key] !== undefined, `${file}: credentials.files has ${key}`);
        const local = path.join(dir, key);
        mkdirSync(path.dirname(local), { recursive: true });
        writeFileSync(local, files[key] ?? '');
        config = config.replaceAll(mounted, local);
      }
      writeFileSync(path.join(dir, 'config.yaml'), config);
      const loaded = await loadConfigFile(path.join(dir, 'config.yaml'), { env: {} });
      assert.ok(loaded.jobs.length >= 1);
    } finally {
      cleanup();
    }
  });
}
