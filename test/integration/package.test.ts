/**
 * The npm package as a user gets it: `npm pack` from a copy of the sources as a clean clone
 * has them (no dist/: the prepare script builds), `npm install -g` of the tarball into a
 * private prefix, then the installed `imap_exporter` run from another directory: --version,
 * check against a closed port, and the daemon on its default config path. Needs the npm
 * registry or npm's cache for the production dependencies, as any install does.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { closedPort, freePort } from '../fixtures/ports.js';
import { repoPath } from '../unit/deploy-lib.test.js';

const run = promisify(execFile);
// What a clean clone has that the package is built from.
const SOURCES = ['src', 'config', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'LICENSE', 'README.md'];

let dir: string;
let bin: string;
let packageDir: string;
let files: string[];
/** Not the repository: nothing may depend on the working directory being a checkout. */
let elsewhere: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-package-'));
  const clone = join(dir, 'clone');
  await mkdir(clone);
  await Promise.all(SOURCES.map((name) => cp(repoPath(name), join(clone, name), { recursive: true })));
  await symlink(repoPath('node_modules'), join(clone, 'node_modules'), 'dir');
  const npm = { cwd: clone, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 };
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], npm);
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(packed);
  files = packed.files.map((f) => f.path).sort();
  const prefix = join(dir, 'prefix');
  await run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed.filename)], {
    ...npm,
    cwd: dir,
  });
  bin = join(prefix, 'bin', 'imap_exporter');
  packageDir = join(prefix, 'lib', 'node_modules', 'imap-exporter');
  elsewhere = join(dir, 'elsewhere');
  await mkdir(elsewhere);
});
after(() => rm(dir, { recursive: true, force: true }));

function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(bin, args, { cwd: elsewhere, timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
}

test('the tarball holds the built code, the example configs, LICENSE and README, and nothing of the tests', () => {
  for (const needed of ['LICENSE', 'README.md', 'package.json', 'config/imap-exporter.yaml', 'config/web-config.example.yml', 'dist/src/main.js', 'dist/src/daemon.js']) {
    assert.ok(files.includes(needed), `${needed} is packed`);
  }
  assert.deepEqual(files.filter((f) => !/^(LICENSE|README\.md|package\.json|config\/[\w.-]+\.ya?ml|dist\/src\/.+\.js(\.map)?)$/.test(f)), []);
});

test('the installed binary answers --version and --help from another directory', async () => {
  const version = await runBin(['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^imap_exporter 0\.1\.0 \(node v\d+/);
  const help = await runBin(['check', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: imap_exporter check HOST/);
  assert.ok((await readdir(packageDir)).includes('LICENSE'));
});

test('the installed binary runs check: a closed port is connection_refused, exit 1', async () => {
  const result = await runBin(['check', `127.0.0.1:${await closedPort()}`, '--no-tls', '--timeout', '3s']);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /connect ✗ connection_refused/);
});

test('the installed daemon reads its default config path, relative to the working directory', async () => {
  const missing = await runBin(['--web.listen-address=127.0.0.1:0']);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /config\/imap-exporter\.yaml \(.*elsewhere\/config\/imap-exporter\.yaml\): no such file/);
  assert.doesNotMatch(missing.stdout, /"msg":"listening"/);

  // The documented way: copy the packaged example next to where the exporter runs.
  await cp(join(packageDir, 'config', 'imap-exporter.yaml'), join(elsewhere, 'config', 'imap-exporter.yaml'), { recursive: true });
  const port = await freePort();
  const child = spawn(bin, [`--web.listen-address=127.0.0.1:${port}`], { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let body = '';
    for (let i = 0; i < 100 && !/^imap_exporter_jobs 1$/m.test(body); i++) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
      body = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    }
    assert.match(body, /^imap_exporter_build_info\{version="0\.1\.0",node_version="v\d+[^"]*"\} 1$/m, output);
    assert.match(body, /^imap_exporter_jobs 1$/m, 'the example config: one unauthenticated probe');
    assert.match(output, /"file":"config\/imap-exporter\.yaml"|probe jobs scheduled/);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  }
});
