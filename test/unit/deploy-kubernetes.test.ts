/**
 * The Kubernetes manifests, offline: each kustomization is rendered (deploy-lib's
 * renderKustomization), every object is validated against the Kubernetes / Prometheus Operator
 * JSON schemas shipped by kubernetes-models, and the deployment's own rules are checked on top:
 * probes, resources, security context, and that every reference (ConfigMap, Secret key,
 * password_file, Service selector, ServiceMonitor port) resolves.
 *
 * DEPLOY_REGENERATE=1 rewrites deploy/kubernetes/monitoring/prometheusrule.yaml from the rules file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { parseDaemonFlags } from '../../src/cli/flags.js';
import { loadConfigFile } from '../../src/config/load.js';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import {
  type Container,
  type K8sObject,
  PROMETHEUS_RULE_PATH,
  RULES_PATH,
  containersOf,
  dataValue,
  podSpecOf,
  prometheusRuleFromRules,
  readRepoFile,
  renderKustomization,
  repoPath,
  tempDir,
} from './deploy-lib.test.js';

type Validator = (obj: K8sObject) => void;
const validators: Record<string, Validator> = {
  'apps/v1/Deployment': (o) => new Deployment(o as ConstructorParameters<typeof Deployment>[0]).validate(),
  'apps/v1/StatefulSet': (o) => new StatefulSet(o as ConstructorParameters<typeof StatefulSet>[0]).validate(),
  'v1/ConfigMap': (o) => new ConfigMap(o as ConstructorParameters<typeof ConfigMap>[0]).validate(),
  'v1/Secret': (o) => new Secret(o as ConstructorParameters<typeof Secret>[0]).validate(),
  'v1/Service': (o) => new Service(o as ConstructorParameters<typeof Service>[0]).validate(),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o as ConstructorParameters<typeof NetworkPolicy>[0]).validate(),
  'monitoring.coreos.com/v1/PrometheusRule': (o) =>
    new PrometheusRule(o as unknown as ConstructorParameters<typeof PrometheusRule>[0]).validate(),
  'monitoring.coreos.com/v1/ServiceMonitor': (o) =>
    new ServiceMonitor(o as unknown as ConstructorParameters<typeof ServiceMonitor>[0]).validate(),
};

const KUSTOMIZATIONS = ['standalone', 'sidecar', 'sharded', 'monitoring'] as const;
const rendered = Object.fromEntries(
  KUSTOMIZATIONS.map((k) => [k, renderKustomization(repoPath('deploy/kubernetes', k))]),
) as Record<(typeof KUSTOMIZATIONS)[number], K8sObject[]>;

/** The one Deployment or StatefulSet of an exporter kustomization. */
function workloadOf(objects: K8sObject[]): K8sObject {
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
  assert.equal(workloads.length, 1, 'one workload');
  return workloads[0] as K8sObject;
}

const EXPORTER_ARGS = ['--config.file=/etc/imap_exporter/config.yaml', '--web.listen-address=:10043', '--log.format=json'];

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} is in the kustomization`);
  return found;
}

interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number };
  emptyDir?: unknown;
}
interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
}

/** The ConfigMap or Secret object and key behind a file path inside a container, if mounted. */
function fileSource(objects: K8sObject[], obj: K8sObject, container: Container, file: string): { object: K8sObject; key: string } {
  const volumes = (podSpecOf(obj)?.volumes as Volume[] | undefined) ?? [];
  const mounts = (container.volumeMounts as VolumeMount[] | undefined) ?? [];
  for (const m of mounts) {
    const v = volumes.find((vol) => vol.name === m.name);
    if (!v) continue;
    let relative: string | undefined;
    if (m.subPath !== undefined) relative = m.mountPath === file ? m.subPath : undefined;
    else if (path.posix.dirname(file) === m.mountPath) relative = path.posix.basename(file);
    if (relative === undefined) continue;
    const source = v.configMap ?? v.secret;
    assert.ok(source, `${file} is mounted from a ConfigMap or Secret`);
    const key = source.items ? source.items.find((i) => i.path === relative)?.key : relative;
    assert.ok(key, `${file}: no item of volume ${v.name} maps to ${relative}`);
    const object = v.configMap ? find(objects, 'ConfigMap', v.configMap.name) : find(objects, 'Secret', v.secret?.secretName ?? '');
    return { object, key };
  }
  assert.fail(`${container.name}: nothing is mounted at ${file}`);
}

function fileContent(objects: K8sObject[], obj: K8sObject, container: Container, file: string): string {
  const { object, key } = fileSource(objects, obj, container, file);
  const value = dataValue(object, key);
  assert.ok(value !== undefined, `${object.kind}/${object.metadata.name} has key ${key} (for ${file})`);
  return value;
}

interface ExporterConfig {
  targets: { name: string; host: string; port?: number; tls?: string; accounts?: { username: string; password_file?: string }[] }[];
}

const EXPORTER_SECURITY = {
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

test('every object has apiVersion, kind, metadata.name and passes its JSON schema', () => {
  for (const [k, objects] of Object.entries(rendered)) {
    assert.ok(objects.length > 0, `${k} renders objects`);
    for (const o of objects) {
      assert.ok(o.apiVersion && o.kind && o.metadata?.name, `${k}: ${JSON.stringify(o).slice(0, 80)}`);
      const validate = validators[`${o.apiVersion}/${o.kind}`];
      assert.ok(validate, `${k}: no schema for ${o.apiVersion} ${o.kind}`);
      assert.doesNotThrow(() => validate(o), `${k}: ${o.kind}/${o.metadata.name}`);
    }
  }
});

test('the schema validation rejects a broken object (it is not a no-op)', () => {
  const deployment = structuredClone(find(rendered.standalone, 'Deployment', 'imap-exporter'));
  const container = containersOf(deployment)[0] as Container;
  (container.ports as { containerPort: unknown }[])[0] = { containerPort: 'metrics' };
  assert.throws(() => validators['apps/v1/Deployment']?.(deployment), /containerPort/);
});

for (const k of ['standalone', 'sidecar', 'sharded'] as const) {
  test(`${k}: the imap-exporter container is configured as the contract and the policy say`, () => {
    const objects = rendered[k];
    const deployment = workloadOf(objects);
    if (k === 'sharded') {
      assert.equal(deployment.kind, 'StatefulSet');
      assert.equal((deployment.spec as { replicas: number }).replicas, 3, 'three shards');
    } else {
      assert.equal(deployment.kind, 'Deployment');
      assert.equal((deployment.spec as { replicas: number }).replicas, 1, 'one exporter: a second replica doubles the logins');
    }
    const pod = podSpecOf(deployment) ?? {};
    assert.deepEqual((pod.securityContext as { seccompProfile?: unknown }).seccompProfile, { type: 'RuntimeDefault' });
    const exporter = containersOf(deployment).find((c) => c.name === 'imap-exporter');
    assert.ok(exporter);
    assert.match(exporter.image, /^imap_exporter:\d+\.\d+\.\d+$/, 'kustomize pins the image tag');
    const shardArgs = k === 'sharded' ? ['--shard.from-hostname', '--shard.count=3'] : [];
    assert.deepEqual(exporter.args, [...EXPORTER_ARGS, ...shardArgs]);
    assert.deepEqual(exporter.ports, [{ name: 'metrics', containerPort: 10043, protocol: 'TCP' }]);
    // The figures come from bench/probe-cost.ts and a measured 500-job daemon (see the manifests).
    const expected = k !== 'sidecar'
      ? { requests: { cpu: '150m', memory: '192Mi' }, limits: { memory: '384Mi' } }
      : { requests: { cpu: '10m', memory: '96Mi' }, limits: { memory: '192Mi' } };
    assert.deepEqual(exporter.resources, expected);
    const liveness = exporter.livenessProbe as { httpGet: unknown };
    const readiness = exporter.readinessProbe as { httpGet: unknown };
    assert.deepEqual(liveness.httpGet, { path: '/-/healthy', port: 'metrics' });
    assert.deepEqual(readiness.httpGet, { path: '/-/ready', port: 'metrics' });
    assert.deepEqual(exporter.securityContext, EXPORTER_SECURITY);

    // The config is mounted, parses, and every password_file is a key of a mounted Secret.
    const config = parse(fileContent(objects, deployment, exporter, '/etc/imap_exporter/config.yaml')) as ExporterConfig;
    assert.ok(config.targets.length > 0);
    const passwordFiles = config.targets.flatMap((t) => (t.accounts ?? []).map((a) => a.password_file));
    assert.ok(passwordFiles.length > 0, 'at least one login probe');
    for (const file of passwordFiles) {
      assert.ok(file, 'accounts read their password from a file (password_file), not from the config');
      const { object } = fileSource(objects, deployment, exporter, file);
      assert.equal(object.kind, 'Secret', `${file} comes from a Secret`);
      assert.ok(fileContent(objects, deployment, exporter, file).length > 0);
    }
    // Secret files: readable by the exporter's group only (fsGroup), not the world.
    for (const v of (pod.volumes as Volume[]).filter((vol) => vol.secret)) {
      const mounted = (exporter.volumeMounts as VolumeMount[]).some((m) => m.name === v.name);
      if (mounted) assert.equal(v.secret?.defaultMode, 0o440, `${v.name}: mode 0440`);
    }
    assert.equal((pod.securityContext as { fsGroup?: number }).fsGroup, 65532);
  });

  test(`${k}: every container has resources, probes and a hardened security context; references resolve`, () => {
    const objects = rendered[k];
    const deployment = workloadOf(objects);
    const pod = podSpecOf(deployment) ?? {};
    const volumes = pod.volumes as Volume[];
    for (const c of containersOf(deployment)) {
      const resources = c.resources as { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
      assert.ok(resources.requests?.cpu && resources.requests.memory && resources.limits?.memory, `${c.name}: requests and a memory limit`);
      assert.ok(c.livenessProbe && c.readinessProbe, `${c.name}: liveness and readiness probes`);
      const sc = c.securityContext as { allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
      assert.equal(sc.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`);
      assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${c.name}: drops all capabilities`);
      for (const m of (c.volumeMounts as VolumeMount[] | undefined) ?? []) {
        assert.ok(volumes.some((v) => v.name === m.name), `${c.name}: volume ${m.name} exists`);
      }
    }
    for (const v of volumes) {
      if (v.configMap) find(objects, 'ConfigMap', v.configMap.name);
      if (v.secret) find(objects, 'Secret', v.secret.secretName);
      for (const item of v.configMap?.items ?? v.secret?.items ?? []) {
        const source = v.configMap ? find(objects, 'ConfigMap', v.configMap.name) : find(objects, 'Secret', v.secret?.secretName ?? '');
        assert.ok(dataValue(source, item.key) !== undefined, `${v.name}: key ${item.key} exists`);
      }
    }
    // The Service selects this pod and serves its port "metrics" as 10043.
    const service = objects.find((o) => o.kind === 'Service') as K8sObject;
    const spec = service.spec as { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    for (const [key, value] of Object.entries(spec.selector)) assert.equal(podLabels[key], value, `Service selector ${key}`);
    const selector = (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    for (const [key, value] of Object.entries(selector)) assert.equal(podLabels[key], value, `${deployment.kind} selector ${key}`);
    assert.deepEqual(
      spec.ports.find((p) => p.name === 'metrics'),
      { name: 'metrics', port: 10043, targetPort: 'metrics', protocol: 'TCP' },
    );
  });
}

for (const [k, probes] of [['standalone', 4], ['sidecar', 1], ['sharded', 4]] as const) {
  test(`${k}: the mounted config passes the exporter's own loader, Secret files in place`, async () => {
    const objects = rendered[k];
    const deployment = workloadOf(objects);
    const exporter = containersOf(deployment).find((c) => c.name === 'imap-exporter') as Container;
    let configText = fileContent(objects, deployment, exporter, '/etc/imap_exporter/config.yaml');
    const config = parse(configText) as ExporterConfig;
    const { dir, cleanup } = tempDir('imap-exporter-k8s-');
    try {
      // The pod's files under a temp root: the config and each password_file from its Secret.
      for (const file of config.targets.flatMap((t) => (t.accounts ?? []).map((a) => a.password_file ?? ''))) {
        const local = path.join(dir, file);
        mkdirSync(path.dirname(local), { recursive: true });
        writeFileSync(local, fileContent(objects, deployment, exporter, file));
        configText = configText.replaceAll(`password_file: ${file}`, `password_file: ${local}`);
      }
      writeFileSync(path.join(dir, 'config.yaml'), configText);
      const loaded = await loadConfigFile(path.join(dir, 'config.yaml'), { env: {} });
      assert.equal(loaded.jobs.length, probes, 'one job per target/account pair');
    } finally {
      cleanup();
    }
  });
}

test('sidecar: the exporter probes the Dovecot beside it with STARTTLS, as the account Dovecot knows', () => {
  const objects = rendered.sidecar;
  const deployment = find(objects, 'Deployment', 'dovecot');
  const [dovecot, exporter] = ['dovecot', 'imap-exporter'].map((n) => containersOf(deployment).find((c) => c.name === n));
  assert.ok(dovecot && exporter);
  assert.match(dovecot.image, /^dovecot\/dovecot:2\.3\.\d+(\.\d+)?$/, 'a 2.3 image: dovecot.conf uses 2.3 syntax');
  const config = parse(fileContent(objects, deployment, exporter, '/etc/imap_exporter/config.yaml')) as ExporterConfig;
  assert.equal(config.targets.length, 1);
  const target = config.targets[0] as ExporterConfig['targets'][number];
  assert.deepEqual([target.host, target.port, target.tls], ['127.0.0.1', 143, 'starttls']);
  assert.equal((dovecot.ports as { containerPort: number }[])[0]?.containerPort, 143);
  const account = target.accounts?.[0];
  assert.ok(account?.password_file);
  const password = fileContent(objects, deployment, exporter, account.password_file);

  const dovecotConf = fileContent(objects, deployment, dovecot, '/etc/dovecot/dovecot.conf');
  const passwdFile = /passdb\s*\{[^}]*driver = passwd-file[^}]*args = (\S+)/.exec(dovecotConf)?.[1];
  assert.ok(passwdFile, 'Dovecot reads a passwd-file');
  const users = fileContent(objects, deployment, dovecot, passwdFile);
  assert.ok(users.split('\n').includes(`${account.username}:{PLAIN}${password}`), 'Dovecot knows the account with the same password');
  assert.match(dovecotConf, /^ssl = required$/m);
});

test('monitoring: the ServiceMonitor scrapes the metrics port of both Services, in both namespaces', () => {
  const monitor = find(rendered.monitoring, 'ServiceMonitor', 'imap-exporter');
  const spec = monitor.spec as {
    namespaceSelector: { matchNames: string[] };
    selector: { matchLabels: Record<string, string> };
    endpoints: { port: string; path: string; honorLabels: boolean }[];
  };
  assert.deepEqual(spec.endpoints.map((e) => [e.port, e.path, e.honorLabels]), [['metrics', '/metrics', false]]);
  // deploy/README.md: standalone (and this monitor) in `monitoring`, the sidecar demo in `default`.
  assert.deepEqual(spec.namespaceSelector.matchNames, ['monitoring', 'default']);
  const readme = readRepoFile('deploy/README.md');
  assert.match(readme, /kubectl apply -k deploy\/kubernetes\/standalone -n monitoring/);
  assert.match(readme, /kubectl apply -k deploy\/kubernetes\/sidecar`/);
  for (const k of ['standalone', 'sidecar'] as const) {
    const service = rendered[k].find((o) => o.kind === 'Service') as K8sObject;
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) {
      assert.equal(service.metadata.labels?.[key], value, `${k} Service has label ${key}=${value}`);
    }
  }
});

for (const [k, name] of [['standalone', 'imap-exporter'], ['sharded', 'imap-exporter-sharded']] as const) {
test(`${k}: the NetworkPolicy lets only Prometheus reach the exporter, on its metrics port`, () => {
  const objects = rendered[k];
  const policy = find(objects, 'NetworkPolicy', name);
  const spec = policy.spec as {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { from: { namespaceSelector?: unknown; podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: string | number }[] }[];
  };
  const deployment = workloadOf(objects);
  const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
  for (const [key, value] of Object.entries(spec.podSelector.matchLabels)) assert.equal(podLabels[key], value, `selects the exporter pod: ${key}`);
  for (const other of KUSTOMIZATIONS.filter((o) => o !== k && o !== 'monitoring')) {
    const labels = (workloadOf(rendered[other]).spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    assert.ok(Object.entries(spec.podSelector.matchLabels).some(([key, value]) => labels[key] !== value), `does not select the ${other} pods`);
  }
  assert.deepEqual(spec.policyTypes, ['Ingress']);
  assert.equal(spec.ingress.length, 1);
  const rule = spec.ingress[0];
  assert.deepEqual(rule?.ports.map((p) => p.port), ['metrics']);
  assert.deepEqual(rule?.from, [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
  ], 'one peer: Prometheus pods in monitoring (namespace AND pod selector in one entry)');
});
}

test('sharded: a StatefulSet of N pods, each parsing its shard from its name, behind a headless Service every pod of which is scraped once', () => {
  const objects = rendered.sharded;
  const statefulSet = find(objects, 'StatefulSet', 'imap-exporter');
  const spec = statefulSet.spec as { replicas: number; podManagementPolicy: string; serviceName: string };
  assert.equal(spec.podManagementPolicy, 'Parallel');
  const exporter = containersOf(statefulSet).find((c) => c.name === 'imap-exporter') as Container;
  const args = exporter.args as string[];
  const count = Number(/^--shard\.count=(\d+)$/.exec(args.find((a) => a.startsWith('--shard.count=')) ?? '')?.[1]);
  assert.equal(count, spec.replicas, '--shard.count equals replicas');
  assert.ok(args.includes('--shard.from-hostname') && !args.some((a) => a.startsWith('--shard.index')));
  // What the exporter itself makes of these flags in each pod (named NAME-ORDINAL by the StatefulSet).
  for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
    assert.deepEqual(parseDaemonFlags(args, () => `${statefulSet.metadata.name}-${ordinal}`).shard, { index: ordinal, count });
  }
  assert.throws(() => parseDaemonFlags(args, () => `${statefulSet.metadata.name}-${spec.replicas}`), /not below --shard\.count/);

  // The governing Service: headless, in the kustomization, selecting these pods.
  const service = find(objects, 'Service', spec.serviceName);
  const serviceSpec = service.spec as { clusterIP?: string; selector: Record<string, string> };
  assert.equal(serviceSpec.clusterIP, 'None', 'headless');
  // Its ServiceMonitor selects it (and only it) on port metrics; monitoring's ServiceMonitor does not, or every pod is scraped twice.
  const monitor = find(objects, 'ServiceMonitor', 'imap-exporter-sharded');
  const monitorSpec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; honorLabels: boolean }[] };
  assert.deepEqual(monitorSpec.endpoints.map((e) => [e.port, e.path, e.honorLabels]), [['metrics', '/metrics', false]]);
  const selects = (labels: Record<string, string>, by: Record<string, string>) => Object.entries(by).every(([key, value]) => labels[key] === value);
  assert.ok(selects(service.metadata.labels ?? {}, monitorSpec.selector.matchLabels), 'the ServiceMonitor selects the headless Service');
  for (const k of ['standalone', 'sidecar'] as const) {
    const other = rendered[k].find((o) => o.kind === 'Service') as K8sObject;
    assert.ok(!selects(other.metadata.labels ?? {}, monitorSpec.selector.matchLabels), `it does not select the ${k} Service`);
  }
  const shared = find(rendered.monitoring, 'ServiceMonitor', 'imap-exporter').spec as { selector: { matchLabels: Record<string, string> } };
  assert.ok(!selects(service.metadata.labels ?? {}, shared.selector.matchLabels), "monitoring's ServiceMonitor does not also scrape the shards");
  assert.match(readRepoFile('deploy/README.md'), /kubectl apply -k deploy\/kubernetes\/sharded/);
});

test('monitoring: the PrometheusRule carries exactly the groups of deploy/prometheus/rules', () => {
  const expected = prometheusRuleFromRules(readRepoFile(RULES_PATH));
  if (process.env.DEPLOY_REGENERATE === '1') {
    const header = `# Generated from ${RULES_PATH} by test/unit/deploy-kubernetes.test.ts; do not edit.\n# Regenerate: DEPLOY_REGENERATE=1 node --test <compiled deploy-kubernetes.test.js>\n`;
    writeFileSync(repoPath(PROMETHEUS_RULE_PATH), header + stringify(expected, { lineWidth: 0 }));
  }
  const actual = find(rendered.monitoring, 'PrometheusRule', 'imap-exporter');
  assert.deepEqual(actual, expected, `${PROMETHEUS_RULE_PATH} is stale: regenerate it (DEPLOY_REGENERATE=1)`);
});
