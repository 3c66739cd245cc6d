/**
 * The Dockerfile and .dockerignore, checked for the properties the deployment relies on.
 * hadolint is in neither Debian bookworm nor npm, and there is no Docker engine here, so the
 * image itself is not built in CI: these checks read the files.
 */
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
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

test('Dockerfile: multi-stage, built on node:20 with npm ci, build and a production prune', () => {
  assert.ok(stages >= 2, 'a build stage and a run stage');
  assert.match(one('FROM', build).args, /^node:20(-[a-z]+)?\s+AS\s+build$/i);
  const runs = all('RUN', build).map((i) => i.args).join('\n');
  assert.match(runs, /npm ci\b/);
  assert.match(runs, /npm run build\b/);
  assert.match(runs, /npm prune --omit=dev\b/);
  assert.ok(runs.indexOf('npm run build') < runs.indexOf('npm prune'), 'prune after the build');
});

test('Dockerfile: the run stage is distroless or slim Node 20 and copies only the build output', () => {
  assert.match(one('FROM').args, /^(gcr\.io\/distroless\/nodejs20-debian12(:nonroot)?|node:20-(bookworm-)?slim)(@sha256:[0-9a-f]{64})?$/);
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

/** The HEALTHCHECK's node -e program, pointed at `port` instead of 10043 and run by this Node. */
function runHealthcheck(port: number): Promise<number> {
  const args = JSON.parse(one('HEALTHCHECK').args.replace(/^(--\S+\s+)*CMD\s+/, '')) as string[];
  assert.equal(args[1], '-e');
  const program = (args[2] ?? '').replace('127.0.0.1:10043', `127.0.0.1:${port}`);
  assert.notEqual(program, args[2], 'the check targets 127.0.0.1:10043');
  // Asynchronous: the server answering it runs in this process.
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', program], { timeout: 10_000 }, (err) => {
      resolve(err ? (typeof err.code === 'number' ? err.code : -1) : 0);
    });
  });
}

test('Dockerfile: HEALTHCHECK asks /-/healthy with node (no curl in distroless) and exits by its status', async () => {
  assert.match(one('HEALTHCHECK').args, /^--interval=\S+ --timeout=\S+ .*CMD \["\/nodejs\/bin\/node", "-e", /);
  const seen: string[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  try {
    assert.equal(await runHealthcheck(address.port), 0, 'healthy on 200');
    status = 503;
    assert.equal(await runHealthcheck(address.port), 1, 'unhealthy on 503');
    assert.deepEqual(seen, ['/-/healthy', '/-/healthy']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  // The port is closed now: nothing listens.
  assert.equal(await runHealthcheck(address.port), 1, 'unhealthy when nothing listens');
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
