/** Passwords: read at call time, re-read after rotation, cached otherwise, and never in a message. */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, test } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { cachedFileReader, passwordReader, Secret } from '../../src/config/secrets.js';

const PASSWORD = 'correct-horse-battery-staple-4711';
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'imap-exporter-secrets-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Backdate a file past the "changed too recently to trust" window. */
async function settle(path: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  await utimes(path, past, past);
}

test('a password file is re-read after rotation, one trailing newline dropped', async () => {
  const path = join(scratch, 'rotating');
  await writeFile(path, 'first-password\n');
  const password = passwordReader({ kind: 'file', path }, {}, { recheckMs: 0 });
  assert.equal(await password(), 'first-password');
  await writeFile(path, 'second-password\r\n');
  assert.equal(await password(), 'second-password');
  // Same size, rewritten in place.
  await writeFile(path, 'third--password\n\n');
  assert.equal(await password(), 'third--password\n');
  // Rotated by rename, as Kubernetes and most secret tools do.
  await writeFile(join(scratch, 'rotating.new'), 'fourth-password');
  await rename(join(scratch, 'rotating.new'), path);
  assert.equal(await password(), 'fourth-password');
});

test('an unchanged password file is read once', async () => {
  const path = join(scratch, 'cached');
  await writeFile(path, 'cached-password\n');
  await settle(path);
  let reads = 0;
  const read = cachedFileReader(path, async () => {
    reads += 1;
    return `read ${reads}`;
  }, { recheckMs: 0 });
  assert.equal(await read(), 'read 1');
  assert.equal(await read(), 'read 1');
  assert.equal(reads, 1);
  await writeFile(path, 'changed\n');
  assert.equal(await read(), 'read 2');
});

test('a file changed too recently to trust its timestamp is read every time', async () => {
  const path = join(scratch, 'fresh');
  await writeFile(path, 'fresh\n');
  let reads = 0;
  const read = cachedFileReader(path, async () => String(++reads), { recheckMs: 0 });
  await read();
  await read();
  assert.equal(reads, 2);
});

test('a password file is checked at most once per second however often it is asked for', async () => {
  const path = join(scratch, 'checked');
  await writeFile(path, 'checked-password\n');
  let clock = 0;
  let reads = 0;
  const read = cachedFileReader(path, async () => `read ${++reads}`, { now: () => clock });
  assert.deepEqual(await Promise.all([read(), read(), read()]), ['read 1', 'read 1', 'read 1'], 'concurrent callers share one check');
  await writeFile(path, 'rotated\n');
  clock = 999;
  assert.equal(await read(), 'read 1', 'within the recheck window: no stat, the cached value');
  clock = 1000;
  assert.equal(await read(), 'read 2', 'after it: the rotation is seen');
});

test('password_env is read at call time', async () => {
  const env: NodeJS.ProcessEnv = { IMAP_PW: 'one' };
  const password = passwordReader({ kind: 'env', variable: 'IMAP_PW' }, env);
  assert.equal(await password(), 'one');
  env.IMAP_PW = 'two';
  assert.equal(await password(), 'two');
  delete env.IMAP_PW;
  await assert.rejects(password(), { message: 'environment variable IMAP_PW is not set' });
});

test('an unreadable or empty secret rejects with a message naming its source', async () => {
  const missing = join(scratch, 'missing');
  await assert.rejects(passwordReader({ kind: 'file', path: missing }, {})(), {
    message: `cannot read password file ${missing}: no such file`,
  });
  await assert.rejects(passwordReader({ kind: 'file', path: scratch }, {})(), {
    message: `cannot read password file ${scratch}: not a regular file (a directory)`,
  });
  const empty = join(scratch, 'empty');
  await writeFile(empty, '\n');
  await assert.rejects(passwordReader({ kind: 'file', path: empty }, {})(), { message: `password file ${empty} is empty` });
  await assert.rejects(passwordReader({ kind: 'env', variable: 'E' }, { E: '' })(), {
    message: 'environment variable E is empty',
  });
});

test('an inline password prints as *** everywhere but reveal()', () => {
  const secret = new Secret(PASSWORD);
  assert.equal(secret.reveal(), PASSWORD);
  for (const text of [String(secret), `${secret}`, JSON.stringify({ secret }), inspect({ secret })]) {
    assert.ok(!text.includes(PASSWORD), text);
  }
});

async function loadError(name: string, yaml: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, yaml);
  try {
    const loaded = await loadConfigFile(path, { env });
    return `loaded, warnings: ${loaded.warnings.join('\n')} config: ${JSON.stringify(loaded.config)} ${inspect(loaded, { depth: 9 })}`;
  } catch (error) {
    return `${(error as Error).message}\n${inspect(error, { depth: 9 })}`;
  }
}

test('a password never appears in an error, a warning or the printed config', async () => {
  const file = join(scratch, 'known.password');
  await writeFile(file, `${PASSWORD}\n`);
  const account = (source: string, extra = '') =>
    `targets:\n  - name: t\n    host: h\n${extra}    accounts:\n      - username: u\n        ${source}\n`;
  const outputs = [
    // Fails for another reason: a bad port beside a readable password file, env var, inline value.
    await loadError('file.yaml', account(`password_file: ${file}`, '    port: 0\n')),
    await loadError('env.yaml', account('password_env: KNOWN', '    port: 0\n'), { KNOWN: PASSWORD }),
    await loadError('inline.yaml', account(`password: ${PASSWORD}`, '    port: 0\n')),
    // The password itself is the mistake.
    await loadError('quote.yaml', account(`password: "${PASSWORD}`)),
    await loadError('typo.yaml', account(`pasword: ${PASSWORD}`)),
    await loadError('two.yaml', `${account(`password: ${PASSWORD}`)}        password_file: ${file}\n`),
    await loadError('list.yaml', account(`password: [${PASSWORD}]`)),
    await loadError('enum.yaml', account(`password_env: KNOWN\n        auth: ${PASSWORD}`), { KNOWN: 'x' }),
    // Loads: the warning and the config object must not carry it either.
    await loadError('ok.yaml', account(`password: ${PASSWORD}`)),
  ];
  for (const output of outputs) assert.ok(!output.includes(PASSWORD), output);
  assert.match(outputs[0] ?? '', /targets\[0\]\.port/);
  assert.match(outputs[8] ?? '', /^loaded/);
});

test('accounts naming the same password file or variable share one reader; the others read their own', async () => {
  const shared = join(scratch, 'shared.password');
  const own = join(scratch, 'own.password');
  await writeFile(shared, 'shared-password\n');
  await writeFile(own, 'own-password\n');
  const path = join(scratch, 'sharing.yaml');
  const account = (name: string, source: string): string => `      - name: ${name}\n        username: ${name}\n        ${source}\n`;
  await writeFile(
    path,
    'targets:\n' +
      `  - name: t1\n    host: h\n    accounts:\n${account('a', `password_file: ${shared}`)}${account('b', `password_file: ${own}`)}${account('c', 'password_env: SHARED_PW')}` +
      `  - name: t2\n    host: h\n    accounts:\n${account('a', `password_file: ${shared}`)}${account('c', 'password_env: SHARED_PW')}${account('d', 'password: inline-one')}${account('e', 'password: inline-one')}`,
  );
  const { jobs } = await loadConfigFile(path, { env: { SHARED_PW: 'env-password' } });
  const reader = (key: string): (() => Promise<string>) => {
    const found = jobs.find((job) => job.key === key)?.spec.account?.password;
    assert.ok(found, key);
    return found;
  };
  assert.equal(reader('t1/a'), reader('t2/a'), 'one reader for one file');
  assert.equal(reader('t1/c'), reader('t2/c'), 'one reader for one variable');
  assert.notEqual(reader('t1/a'), reader('t1/b'));
  assert.notEqual(reader('t2/d'), reader('t2/e'), 'inline passwords are each their own');
  const read = await Promise.all(['t1/a', 't1/b', 't1/c', 't2/a', 't2/c', 't2/d', 't2/e'].map((key) => reader(key)()));
  assert.deepEqual(read, ['shared-password', 'own-password', 'env-password', 'shared-password', 'env-password', 'inline-one', 'inline-one']);
});
