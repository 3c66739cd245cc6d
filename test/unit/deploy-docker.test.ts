/**
 * The Dockerfile and .dockerignore, checked for the properties the deployment relies on.
 * hadolint is in neither Debian bookworm nor npm, and there is no Docker engine here, so the
 * image itself is not built in CI: these checks read the files.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { dockerignoreExcludes, readRepoFile } from './deploy-lib.test.js';

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped; stage = index of its FROM. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  let stage = -1;
  return logical.map((l) => {
    const [keyword = '', ...rest] = l.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stage++;
    return { keyword: keyword.toUpperCase(), args: rest.join(' '), stage };
  });
}

const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const stages = Math.max(...dockerfile.map((i) => i.stage)) + 1;
const final = dockerfile.filter((i) => i.stage === stages - 1);
const build = dockerfile.filter((i) => i.stage === 0);
const all = (keyword: string, list = final): Instruction[] => list.filter((i) => i.keyword === keyword);
const one = (keyword: string, list = final): Instruction => {
  const found = all(keyword, list);
  assert.equal(found.length, 1, `exactly one ${keyword} in the stage`);
  return found[0] as Instruction;
};

const DIGEST = '@sha256:[0-9a-f]{64}';

test('Dockerfile: multi-stage, built on node:24 with npm ci, build and a production prune', () => {
  assert.ok(stages >= 2, 'a build stage and a run stage');
  assert.match(one('FROM', build).args, new RegExp(`^node:24(-[a-z]+)?${DIGEST}\\s+AS\\s+build$`, 'i'));
  const runs = all('RUN', build).map((i) => i.args).join('\n');
  assert.match(runs, /npm ci\b/);
  assert.match(runs, /npm run build\b/);
  assert.match(runs, /npm prune --omit=dev\b/);
  assert.ok(runs.indexOf('npm run build') < runs.indexOf('npm prune'), 'prune after the build');
});

test('Dockerfile: every base image is pinned by digest, with its tag in the comment above it', () => {
  const lines = readRepoFile('Dockerfile').split('\n');
  const froms = lines.map((line, i) => [line, i] as const).filter(([line]) => line.startsWith('FROM '));
  assert.equal(froms.length, stages);
  for (const [line, i] of froms) {
    const image = /^FROM (\S+)@sha256:[0-9a-f]{64}\b/.exec(line)?.[1];
    assert.ok(image, `${line}: pinned by digest`);
    assert.equal(lines[i - 1], `# ${image}`, `${line}: the tag as a comment above`);
  }
});

test('Dockerfile: the run stage is distroless or slim Node 24 and copies only the build output', () => {
  assert.match(one('FROM').args, new RegExp(`^(gcr\\.io\\/distroless\\/nodejs24-debian12(:nonroot)?|node:24-(bookworm-)?slim)${DIGEST}$`));
  assert.equal(all('RUN').length, 0, 'nothing runs in the final stage (distroless has no shell)');
  assert.equal(all('ADD').length, 0);
  const copies = all('COPY').map((i) => i.args);
  assert.ok(copies.length > 0);
  for (const c of copies) {
    assert.match(c, /--from=build\b/, `only from the build stage: ${c}`);
    const sources = c.split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1);
    for (const s of sources) assert.match(s, /^\/app\/(package\.json|node_modules|dist\/src)$/, `unexpected source ${s}`);
  }
});

test('Dockerfile: non-root user, port 10043, config flag, OCI labels', () => {
  const user = one('USER').args;
  assert.doesNotMatch(user, /^(root|0)(:|$)/);
  assert.match(user, /^(65532(:65532)?|nonroot(:nonroot)?)$/, 'the uid the Kubernetes manifests pin');
  assert.equal(one('EXPOSE').args, '10043');
  const entrypoint = JSON.parse(one('ENTRYPOINT').args) as string[];
  const cmd = JSON.parse(one('CMD').args) as string[];
  assert.deepEqual(entrypoint.slice(-1), ['/app/dist/src/main.js']);
  assert.ok(cmd.includes('--config.file=/etc/imap_exporter/config.yaml'));
  assert.ok(cmd.includes('--web.listen-address=:10043'));
  const labels = all('LABEL').map((i) => i.args).join(' ');
  for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'created', 'source']) {
    assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`), `label org.opencontainers.image.${key}`);
  }
  assert.match(labels, /org\.opencontainers\.image\.licenses="Apache-2\.0"/);
});

test('Dockerfile: HEALTHCHECK is the exporter\'s own healthcheck command (no curl in distroless)', () => {
  const healthcheck = one('HEALTHCHECK').args;
  assert.match(healthcheck, /^--interval=\S+ --timeout=\S+ .*CMD \["\/nodejs\/bin\/node", "\/app\/dist\/src\/main\.js", "healthcheck"\]$/);
  const entrypoint = JSON.parse(one('ENTRYPOINT').args) as string[];
  assert.deepEqual(entrypoint, ['/nodejs/bin/node', '/app/dist/src/main.js'], 'the same program the entrypoint runs');
});

test('.dockerignore keeps everything but the sources out of the build context', () => {
  const ignore = readRepoFile('.dockerignore');
  for (const kept of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/main.ts', 'src/probe/run-probe.ts']) {
    assert.equal(dockerignoreExcludes(ignore, kept), false, `${kept} is in the context`);
  }
  const left = [
    'node_modules/yaml/index.js', 'dist/src/main.js', 'test/fixtures/config.yaml', 'test/unit/x.test.ts',
    'bench/probe.bench.ts', '.git/HEAD', '.ci/run', '.tmp/dist-deploy/x.js', 'deploy/kubernetes/sidecar/secret.yaml',
    'README.md', 'config/imap-exporter.yaml', 'server.key', 'certs/ca.pem', 'src/fixtures/tls/key.pem',
    'src/tls/server.crt', 'src/x.test.ts', 'src/NOTES.md', '.env', 'Dockerfile', '.dockerignore',
  ];
  for (const file of left) assert.equal(dockerignoreExcludes(ignore, file), true, `${file} is excluded`);
});
