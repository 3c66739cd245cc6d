/** Every fixture config with what loading it must say: the file, the line, the key path, what was expected. */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfigFile } from '../../src/config/load.js';

const DIR = join(process.cwd(), 'test/fixtures/configs');
const ENV = { IMAP_FIXTURE_PASSWORD: 'fixture-env-password' };

const VALID: Record<string, { targets: number; jobs: number; warnings: string[] }> = {
  'minimal.yaml': { targets: 1, jobs: 1, warnings: [] },
  'empty-targets.yaml': { targets: 0, jobs: 0, warnings: ['empty-targets.yaml:2: targets: no targets'] },
  'inheritance.yaml': { targets: 2, jobs: 3, warnings: [] },
  'ports.yaml': { targets: 5, jobs: 5, warnings: [] },
  'expectations.yaml': { targets: 1, jobs: 2, warnings: [] },
  'inline-password.yaml': {
    targets: 1,
    jobs: 1,
    warnings: ['inline-password.yaml:6: targets[0].accounts[0].password: a password in the config file is discouraged'],
  },
};

/** Substrings of the error message, one per expected problem. */
const INVALID: Record<string, string[]> = {
  'invalid-yaml.yaml': ['invalid-yaml.yaml:5: invalid YAML: Flow sequence'],
  'unknown-key.yaml': [
    'unknown-key.yaml:6: targets[0].accounts[0].pasword_file: unknown key (expected one of username, name, password_file',
    'unknown-key.yaml:5: targets[0].accounts[0]: expected one of password_file, password_env or password',
  ],
  'unknown-top-level-key.yaml': ['unknown-top-level-key.yaml:1: default: unknown key (expected one of defaults, metrics, targets)'],
  'missing-host.yaml': ['missing-host.yaml:4: targets[1].host: missing required key'],
  'wrong-type.yaml': ['wrong-type.yaml:2: defaults.allow_plaintext_auth: expected true or false, got a string'],
  'targets-not-a-list.yaml': ['targets-not-a-list.yaml:1: targets: expected a list, got a mapping'],
  'not-a-mapping.yaml': ['not-a-mapping.yaml:1: expected a mapping with `defaults` and `targets`'],
  'duplicate-target.yaml': ['duplicate-target.yaml:4: targets[1].name: duplicate target name "main", already used by targets[0]'],
  'duplicate-account.yaml': [
    'duplicate-account.yaml:7: targets[0].accounts[1].username: duplicate account name "probe" in this target',
  ],
  'bad-duration.yaml': [
    'bad-duration.yaml:2: defaults.timeout: expected a duration like 500ms, 30s, 5m, 1h',
  ],
  'interval-too-short.yaml': [
    'interval-too-short.yaml:4: targets[0].interval: expected an interval of at least 1s',
  ],
  'bad-port.yaml': ['bad-port.yaml:4: targets[0].port: expected a port number from 1 to 65535'],
  'host-with-port.yaml': ['host-with-port.yaml:3: targets[0].host: expected a host name or IP address (the port goes in `port`'],
  'bad-tls-mode.yaml': ['bad-tls-mode.yaml:4: targets[0].tls: expected one of tls, starttls, none'],
  'unreadable-password-file.yaml': [
    'unreadable-password-file.yaml:6: targets[0].accounts[0].password_file: cannot read password file ' +
      join(DIR, 'secrets/does-not-exist.password') +
      ': no such file',
  ],
  'unset-password-env.yaml': [
    'unset-password-env.yaml:6: targets[0].accounts[0].password_env: environment variable IMAP_FIXTURE_UNSET_VARIABLE is not set',
  ],
  'no-password-source.yaml': [
    'no-password-source.yaml:5: targets[0].accounts[0]: expected one of password_file, password_env or password',
  ],
  'two-password-sources.yaml': [
    'two-password-sources.yaml:7: targets[0].accounts[0].password_env: expected only one of password_file, password_env, password',
  ],
  'timeout-not-below-interval.yaml': [
    'timeout-not-below-interval.yaml:6: targets[0].interval: expected timeout (30s) shorter than interval (30s)',
  ],
  'missing-ca-file.yaml': [
    `missing-ca-file.yaml:4: defaults.tls_config.ca_file: cannot read CA file ${join(DIR, 'secrets/no-such-ca.pem')}: no such file`,
  ],
  'bad-list-entry.yaml': [
    'bad-list-entry.yaml:6: targets[0].list[1]: expected a pattern string or {pattern, reference, min_folders, folders}',
    'bad-list-entry.yaml:7: targets[0].list[2].recursive: unknown key (expected one of reference, pattern, min_folders, folders)',
  ],
  'bad-expectation.yaml': [
    'bad-expectation.yaml:2: defaults.expect.min_messages: expected a whole number, 0 or more',
    'bad-expectation.yaml:6: targets[0].expect.min_mesages: unknown key (expected one of min_messages)',
    'bad-expectation.yaml:8: targets[0].list[0].min_folders: expected a whole number, 0 or more',
    'bad-expectation.yaml:9: targets[0].list[1].folders: expected at least one folder name',
  ],
  'multiple-errors.yaml': [
    'multiple-errors.yaml:2: defaults.interval: expected a duration like 500ms, 30s, 5m, 1h',
    'multiple-errors.yaml:6: targets[0].port: expected a port number from 1 to 65535',
    'multiple-errors.yaml:7: targets[1].name: duplicate target name "a"',
    'multiple-errors.yaml:9: targets[1].colour: unknown key',
  ],
};

for (const [file, expected] of Object.entries(VALID)) {
  test(`valid/${file} loads`, async () => {
    const loaded = await loadConfigFile(join(DIR, 'valid', file), { env: ENV });
    assert.equal(loaded.config.targets.length, expected.targets);
    assert.equal(loaded.jobs.length, expected.jobs);
    assert.equal(loaded.warnings.length, expected.warnings.length, loaded.warnings.join('\n'));
    expected.warnings.forEach((warning, i) => assert.ok(loaded.warnings[i]?.includes(warning), loaded.warnings[i]));
  });
}

for (const [file, expected] of Object.entries(INVALID)) {
  test(`invalid/${file} is rejected, naming the line and key path`, async () => {
    const path = join(DIR, 'invalid', file);
    const error = await loadConfigFile(path, { env: ENV }).then(
      () => assert.fail('loaded a bad config'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.file, path);
    const lines = error.message.split('\n');
    assert.equal(lines.length, expected.length, error.message);
    for (const substring of expected) {
      assert.ok(lines.some((line) => line.startsWith(path) && line.includes(substring)), `missing ${substring}\nin\n${error.message}`);
    }
  });
}

test('every fixture file is in a table', async () => {
  assert.deepEqual((await readdir(join(DIR, 'valid'))).sort(), Object.keys(VALID).sort());
  assert.deepEqual((await readdir(join(DIR, 'invalid'))).sort(), Object.keys(INVALID).sort());
});

test('problems come one per line, in file order', async () => {
  const error = (await loadConfigFile(join(DIR, 'invalid/multiple-errors.yaml')).catch((e: unknown) => e)) as ConfigError;
  assert.deepEqual(
    error.problems.map((p) => p.line),
    [2, 6, 7, 9],
  );
});

test('a missing config file is a ConfigError naming it', async () => {
  const path = join(DIR, 'no-such-config.yaml');
  await assert.rejects(loadConfigFile(path), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, `${path}: cannot read the config file: no such file`);
    return true;
  });
});
