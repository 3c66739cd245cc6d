/** `imap_exporter config check FILE`: exit 0 valid, 1 invalid, 2 bad usage. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runConfigCheck } from '../../src/cli/config-check.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/configs');

async function check(args: string[]) {
  const out = { stdout: '', stderr: '' };
  const code = await runConfigCheck(args, {
    stdout: (s) => (out.stdout += s),
    stderr: (s) => (out.stderr += s),
  });
  return { code, ...out };
}

test('a valid config: OK with counts on stdout, exit 0', async () => {
  const file = join(FIXTURES, 'valid/ports.yaml');
  assert.deepEqual(await check([file]), { code: 0, stdout: `${file}: OK (5 targets, 5 probe jobs)\n`, stderr: '' });
});

test('the shipped example passes', async () => {
  const result = await check(['config/imap-exporter.yaml']);
  assert.deepEqual(result, { code: 0, stdout: 'config/imap-exporter.yaml: OK (1 target, 1 probe job)\n', stderr: '' });
});

test('warnings go to stderr and still exit 0', async () => {
  const file = join(FIXTURES, 'valid/empty-targets.yaml');
  const result = await check([file]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `${file}: OK (0 targets, 0 probe jobs)\n`);
  assert.equal(result.stderr, `warning: ${file}:2: targets: no targets: the exporter will probe nothing\n`);
});

test('an invalid config: every problem on stderr, exit 1', async () => {
  const file = join(FIXTURES, 'invalid/multiple-errors.yaml');
  const result = await check([file]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trimEnd().split('\n').length, 4);
  assert.ok(result.stderr.startsWith(`${file}:2: defaults.interval: expected a duration`), result.stderr);
});

test('a missing file is invalid, exit 1', async () => {
  const result = await check(['no/such/file.yaml']);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'no/such/file.yaml: cannot read the config file: no such file\n');
});

test('bad usage: exit 2 with the usage line', async () => {
  for (const args of [[], ['a.yaml', 'b.yaml'], ['--config.file=x']]) {
    const result = await check(args);
    assert.equal(result.code, 2, JSON.stringify(args));
    assert.equal(result.stderr, 'usage: imap_exporter config check [--config.max-size=4MiB] FILE\n');
  }
  const badSize = await check(['--config.max-size=huge', 'a.yaml']);
  assert.equal(badSize.code, 2);
  assert.match(badSize.stderr, /^--config\.max-size="huge": expected a size/);
});

test('--config.max-size: a file over it is refused with the cap, under it passes, as in the daemon', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'imap-exporter-check-'));
  try {
    const file = join(dir, 'padded.yaml');
    await writeFile(file, `# ${'x'.repeat(2000)}\ntargets: []\n`);
    const refused = await check(['--config.max-size=1KiB', file]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /padded\.yaml: cannot read the config file: .*1 KiB/);
    const passed = await check([file, '--config.max-size=4KiB']);
    assert.equal(passed.code, 0, passed.stderr);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
