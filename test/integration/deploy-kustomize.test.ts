/**
 * `kubectl kustomize` (offline: it renders, it needs no cluster) on each kustomization, compared
 * with what test/unit/deploy-kubernetes.test.ts validates: proves the kustomizations build with
 * a real kustomize and that the schema checks saw exactly what `kubectl apply -k` would send.
 * kubectl ships with this machine kind's image; Debian's kubernetes-client provides it too.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { type K8sObject, renderKustomization, repoPath, runTool } from '../unit/deploy-lib.test.js';

/** Generated names carry a content hash suffix; ours do not. */
function withoutHashSuffix(objects: K8sObject[], generated: string[]): K8sObject[] {
  if (generated.length === 0) return objects;
  const pattern = new RegExp(`\\b(${generated.join('|')})-[a-z0-9]{10}\\b`, 'g');
  return JSON.parse(JSON.stringify(objects).replace(pattern, '$1')) as K8sObject[];
}

const key = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

for (const k of ['standalone', 'sidecar', 'sharded', 'monitoring']) {
  test(`kubectl kustomize deploy/kubernetes/${k} renders what the schema checks validated`, () => {
    const r = runTool('kubectl', ['kustomize', repoPath('deploy/kubernetes', k)], 'apt-get install kubernetes-client');
    assert.equal(r.status, 0, r.stderr);
    const ours = renderKustomization(repoPath('deploy/kubernetes', k));
    const kustomization = parse(readFileSync(repoPath('deploy/kubernetes', k, 'kustomization.yaml'), 'utf8')) as {
      configMapGenerator?: { name: string }[];
      secretGenerator?: { name: string }[];
    };
    const generated = [...(kustomization.configMapGenerator ?? []), ...(kustomization.secretGenerator ?? [])].map((g) => g.name);
    const theirs = withoutHashSuffix(
      parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject),
      generated,
    );
    assert.deepEqual(theirs.map(key).sort(), ours.map(key).sort());
    for (const o of ours) assert.deepEqual(theirs.find((t) => key(t) === key(o)), o, key(o));
  });
}
