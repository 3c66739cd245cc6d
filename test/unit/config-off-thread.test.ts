/**
 * The daemon's config loads run in a worker thread: same result as a load on the main thread,
 * the same file:line problems, a deadline, and the event loop keeps turning while a large
 * file is parsed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigFile } from '../../src/config/load.js';
import { loadConfigFileOffThread } from '../../src/config/off-thread.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'imap-exporter-off-thread-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const ENV = { TEST_PASSWORD: 'not-in-any-output' };

/** `targets` targets of `accounts` accounts each, every account reading TEST_PASSWORD. */
function fleet(targets: number, accounts: number): string {
  const lines = ['defaults:', '  tls: none', 'targets:'];
  for (let t = 0; t < targets; t++) {
    lines.push(`  - name: target-${t}`, '    host: 127.0.0.1', '    port: 1143', '    accounts:');
    for (let a = 0; a < accounts; a++) lines.push(`      - { username: user${a}@example.com, password_env: TEST_PASSWORD, allow_plaintext_auth: true }`);
  }
  return `${lines.join('\n')}\n`;
}

test('gives what a load on the main thread gives, jobs and password readers included', async () => {
  const path = join(scratch, 'small.yaml');
  await writeFile(path, fleet(3, 2));
  const inline = await loadConfigFile(path, { env: ENV });
  const offThread = await loadConfigFileOffThread(path, { env: ENV });
  assert.equal(offThread.checksum, inline.checksum);
  assert.deepEqual(offThread.config, inline.config);
  assert.deepEqual(offThread.warnings, inline.warnings);
  assert.deepEqual(offThread.jobs.map((job) => job.key), inline.jobs.map((job) => job.key));
  assert.equal(offThread.jobs.length, 6);
  assert.equal(await offThread.jobs[0]?.spec.account?.password(), 'not-in-any-output');
});

test('inline passwords cross from the worker intact, still printing as ***', async () => {
  const path = join(scratch, 'inline.yaml');
  await writeFile(path, 'targets:\n  - name: a\n    host: 127.0.0.1\n    accounts:\n      - { username: u, password: s3cret-inline }\n');
  const loaded = await loadConfigFileOffThread(path);
  assert.equal(await loaded.jobs[0]?.spec.account?.password(), 's3cret-inline');
  const source = loaded.config.targets[0]?.accounts[0]?.password;
  assert.equal(source?.kind, 'inline');
  assert.doesNotMatch(JSON.stringify(loaded.config), /s3cret-inline/);
  assert.deepEqual(loaded.warnings, (await loadConfigFile(path)).warnings);
});

test('a bad file is a ConfigError with every problem at its line, as on the main thread', async () => {
  const path = join(scratch, 'bad.yaml');
  await writeFile(path, 'targets:\n  - name: a\n    host: 127.0.0.1\n    port: 0\n  - name: b\n    hots: x\n');
  const inline = await loadConfigFile(path).catch((error: unknown) => error);
  const offThread = await loadConfigFileOffThread(path).catch((error: unknown) => error);
  assert.ok(offThread instanceof ConfigError, String(offThread));
  assert.ok(inline instanceof ConfigError);
  assert.equal(offThread.message, inline.message);
  assert.match(offThread.message, /bad\.yaml:4: targets\[0\]\.port: /);
  assert.match(offThread.message, /bad\.yaml:6: targets\[1\]/);
});

test('an unreadable or oversized file says why, with the cap', async () => {
  const missing = await loadConfigFileOffThread(join(scratch, 'nope.yaml')).catch((error: unknown) => error);
  assert.ok(missing instanceof ConfigError);
  assert.match(missing.message, /nope\.yaml: cannot read the config file: .*(no such file|ENOENT)/i);
  const path = join(scratch, 'big.yaml');
  await writeFile(path, fleet(100, 4));
  const tooBig = await loadConfigFileOffThread(path, { maxBytes: 1024 }).catch((error: unknown) => error);
  assert.ok(tooBig instanceof ConfigError);
  assert.match(tooBig.message, /big\.yaml: cannot read the config file: .*1 KiB/);
});

test('a load past its deadline is abandoned with a reason', async () => {
  const path = join(scratch, 'slow.yaml');
  await writeFile(path, fleet(2500, 4));
  const error = await loadConfigFileOffThread(path, { deadlineMs: 1 }).catch((caught: unknown) => caught);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /slow\.yaml: loading took longer than 0\.001 s and was abandoned/);
});

test('the event loop keeps turning while a 10,000-job file is parsed', async () => {
  const path = join(scratch, 'fleet.yaml');
  await writeFile(path, fleet(2500, 4));
  let settled = false;
  const load = loadConfigFileOffThread(path, { env: ENV }).finally(() => (settled = true));
  // On the main thread the parse would run in one piece: the load would settle before
  // the first of these timers fired. Parsing ~1 MB of YAML takes well over 100 ms anywhere.
  let turns = 0;
  while (!settled && turns < 5) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (!settled) turns += 1;
  }
  assert.equal(turns, 5, 'timers fired while the worker parsed');
  assert.equal((await load).jobs.length, 10_000);
});
