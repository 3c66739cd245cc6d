/** ConfigStore: a bad file keeps the old config; an unchanged file swaps nothing. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { ConfigStore } from '../../src/config/store.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'imap-exporter-store-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const config = (...names: string[]) =>
  `targets:\n${names.map((name) => `  - name: ${name}\n    host: 127.0.0.1\n`).join('')}`;

function clock(startMs: number) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

test('good → bad keeps the old config and reports failure → good again swaps and recovers', async () => {
  const path = join(scratch, 'cycle.yaml');
  const time = clock(1_000_000);
  await writeFile(path, config('one'));
  const store = await ConfigStore.open(path, { now: time.now });
  assert.equal(store.lastReloadSuccessful, true);
  assert.equal(store.lastReloadSuccessTimestampSeconds, 1_000);
  const first = store.current;
  const changes: [LoadedConfig, LoadedConfig][] = [];
  store.onChange((next, previous) => changes.push([next, previous]));

  time.advance(10_000);
  await writeFile(path, `${config('one')}    port: 0\n`);
  const bad = await store.reload();
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.error instanceof ConfigError);
  assert.match(bad.error.message, /cycle\.yaml:4: targets\[0\]\.port: expected a port number/);
  assert.equal(store.current, first);
  assert.deepEqual(store.current.jobs.map((job) => job.key), ['one']);
  assert.equal(store.lastReloadSuccessful, false);
  assert.equal(store.lastReloadSuccessTimestampSeconds, 1_000);
  assert.deepEqual(changes, []);

  time.advance(10_000);
  await writeFile(path, config('one', 'two'));
  const good = await store.reload();
  assert.ok(good.ok);
  assert.equal(good.changed, true);
  assert.deepEqual(good.listenerErrors, []);
  assert.equal(store.lastReloadSuccessful, true);
  assert.equal(store.lastReloadSuccessTimestampSeconds, 1_020);
  assert.deepEqual(store.current.jobs.map((job) => job.key), ['one', 'two']);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]?.[0], store.current);
  assert.equal(changes[0]?.[1], first);
});

test('an unchanged checksum swaps nothing but still counts as a successful reload', async () => {
  const path = join(scratch, 'same.yaml');
  const time = clock(5_000);
  await writeFile(path, config('one'));
  const store = await ConfigStore.open(path, { now: time.now });
  const first = store.current;
  let calls = 0;
  store.onChange(() => calls++);

  time.advance(1_000);
  const outcome = await store.reload();
  assert.ok(outcome.ok);
  assert.equal(outcome.changed, false);
  assert.equal(outcome.config, first);
  assert.equal(store.current, first);
  assert.equal(calls, 0);
  assert.equal(store.lastReloadSuccessTimestampSeconds, 6);
});

test('a listener that throws neither undoes the swap nor silences the others', async () => {
  const path = join(scratch, 'listeners.yaml');
  await writeFile(path, config('one'));
  const store = await ConfigStore.open(path);
  const boom = new Error('listener failed');
  let laterCalled = false;
  store.onChange(() => {
    throw boom;
  });
  const unsubscribed = store.onChange(() => assert.fail('unsubscribed listener called'));
  unsubscribed();
  store.onChange(() => (laterCalled = true));

  await writeFile(path, config('two'));
  const outcome = await store.reload();
  assert.ok(outcome.ok && outcome.changed);
  assert.deepEqual(outcome.listenerErrors, [boom]);
  assert.equal(laterCalled, true);
  assert.deepEqual(store.current.jobs.map((job) => job.key), ['two']);
});

test('concurrent reloads run one after the other', async () => {
  const path = join(scratch, 'concurrent.yaml');
  await writeFile(path, config('one'));
  const store = await ConfigStore.open(path);
  await writeFile(path, config('two'));
  const [a, b] = await Promise.all([store.reload(), store.reload()]);
  assert.ok(a.ok && b.ok);
  assert.deepEqual([a.changed, b.changed], [true, false]);
});

test('open() throws the ConfigError when the first file is bad', async () => {
  const path = join(scratch, 'bad-first.yaml');
  await writeFile(path, 'targets: 5\n');
  await assert.rejects(ConfigStore.open(path), ConfigError);
});

test('a burst of reloads runs one reload after the running one, and every caller gets its outcome', async () => {
  const path = join(scratch, 'burst.yaml');
  await writeFile(path, config('one'));
  let loads = 0;
  const { loadConfigFile } = await import('../../src/config/load.js');
  const store = await ConfigStore.open(path, {
    load: (file, options) => {
      loads += 1;
      return loadConfigFile(file, options);
    },
  });
  loads = 0;
  await writeFile(path, config('one', 'two'));
  const outcomes = await Promise.all(Array.from({ length: 100 }, () => store.reload()));
  assert.equal(loads, 2, 'the one running, and one for everything asked while it ran');
  assert.ok(outcomes.every((outcome) => outcome.ok));
  assert.deepEqual(store.current.config.targets.map((t) => t.name), ['one', 'two']);
});

test('a reload that fails in any way (here a FIFO as the config file) sets the gauge to false at once', async () => {
  const { execFileSync } = await import('node:child_process');
  const path = join(scratch, 'fifo.yaml');
  await writeFile(path, config('one'));
  const store = await ConfigStore.open(path);
  await rm(path);
  execFileSync('mkfifo', [path]);
  const outcome = await store.reload();
  assert.equal(outcome.ok, false);
  assert.match(outcome.ok ? '' : outcome.error.message, /fifo\.yaml: cannot read the config file: not a regular file \(a FIFO\)$/);
  assert.equal(store.lastReloadSuccessful, false);
});
