/** What a loaded config holds: inherited values, ports, jobs, and the shipped example. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';

const DIR = join(process.cwd(), 'test/fixtures/configs');
const ENV = { IMAP_FIXTURE_PASSWORD: 'fixture-env-password' };
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'imap-exporter-config-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('defaults flow to targets, targets to accounts, the most specific level winning', async () => {
  const { config, jobs } = await loadConfigFile(join(DIR, 'valid/inheritance.yaml'), { env: ENV });
  const [inherits, overrides] = config.targets;
  assert.ok(inherits && overrides);

  assert.equal(inherits.intervalMs, 120_000);
  assert.equal(inherits.timeoutMs, 20_000);
  assert.equal(inherits.tls, 'tls');
  assert.deepEqual(inherits.tlsConfig, { serverName: 'imap.example.com', insecureSkipVerify: false });
  assert.deepEqual(inherits.limits, { maxLineBytes: 4096, maxLiteralBytes: 1_048_576, maxResponsesPerCommand: 10_000 });
  assert.equal(inherits.mailbox, 'Archive');

  // tls_config and limits merge key by key with the defaults.
  assert.deepEqual(overrides.tlsConfig, { serverName: 'imap.example.com', insecureSkipVerify: true });
  assert.deepEqual(overrides.limits, { maxLineBytes: 4096, maxLiteralBytes: 1_048_576, maxResponsesPerCommand: 50 });
  assert.equal(overrides.tls, 'starttls');

  const [plain, tuned] = overrides.accounts;
  assert.ok(plain && tuned);
  // From the target, which had it from defaults or set it itself.
  assert.equal(plain.name, 'plain-user');
  assert.equal(plain.intervalMs, 30_000);
  assert.equal(plain.timeoutMs, 20_000);
  assert.equal(plain.auth, 'plain');
  assert.equal(plain.allowPlaintextAuth, false);
  assert.equal(plain.mailbox, 'Archive');
  assert.deepEqual(plain.list, [
    { reference: '', pattern: '%' },
    { reference: '#shared', pattern: '*' },
  ]);
  // Its own.
  assert.equal(tuned.name, 'tuned');
  assert.equal(tuned.username, 'tuned-user');
  assert.equal(tuned.intervalMs, 300_000);
  assert.equal(tuned.timeoutMs, 60_000);
  assert.equal(tuned.auth, 'cram-md5');
  assert.equal(tuned.allowPlaintextAuth, true);
  assert.equal(tuned.mailbox, 'Sent');
  assert.deepEqual(tuned.list, []);

  assert.deepEqual(
    jobs.map((job) => [job.key, job.target, job.account, job.intervalMs, job.spec.timeoutMs]),
    [
      ['inherits', 'inherits', undefined, 120_000, 20_000],
      ['overrides/plain-user', 'overrides', 'plain-user', 30_000, 20_000],
      ['overrides/tuned', 'overrides', 'tuned', 300_000, 60_000],
    ],
  );
  const tunedJob = jobs[2];
  assert.ok(tunedJob?.spec.account);
  assert.deepEqual(
    { ...tunedJob.spec, account: undefined },
    {
      target: 'overrides',
      host: 'imap2.example.com',
      port: 143,
      tls: 'starttls',
      tlsConfig: { serverName: 'imap.example.com', insecureSkipVerify: true },
      timeoutMs: 60_000,
      account: undefined,
      limits: { maxLineBytes: 4096, maxLiteralBytes: 1_048_576, maxResponsesPerCommand: 50 },
    },
  );
  assert.equal(tunedJob.spec.account.auth, 'cram-md5');
  assert.equal(await tunedJob.spec.account.password(), 'fixture-env-password');
  // password_file is relative to the config file, and loses its trailing newline.
  assert.equal(await jobs[1]?.spec.account?.password(), 'fixture-password');
  assert.equal(jobs[0]?.spec.account, undefined);
});

test('expectations: expect inherited like mailbox, list entries carry theirs', async () => {
  const { jobs } = await loadConfigFile(join(DIR, 'valid/expectations.yaml'), { env: ENV });
  const [alice, bob] = jobs.map((job) => job.spec.account);
  assert.ok(alice && bob);
  assert.deepEqual(alice.expect, { minMessages: 1 }, 'from defaults');
  assert.deepEqual(alice.list, [
    { reference: '', pattern: '*' },
    { reference: '', pattern: '#shared.*', expect: { minFolders: 1 } },
  ]);
  assert.deepEqual(bob.expect, {}, 'an account may expect nothing');
  assert.deepEqual(bob.list, [
    { reference: '', pattern: '*', expect: { folders: ['INBOX', 'INBOX.Sent'] } },
    { reference: '#shared.', pattern: '%', expect: { minFolders: 2, folders: ['#shared.alice.Projects'] } },
  ]);
});

test('built-in defaults when the file sets none', async () => {
  const { config, jobs } = await loadConfigFile(join(DIR, 'valid/minimal.yaml'));
  assert.deepEqual(config.defaults, {
    tls: 'starttls',
    tlsConfig: { insecureSkipVerify: false },
    limits: { maxLineBytes: 65_536, maxLiteralBytes: 1_048_576, maxResponsesPerCommand: 10_000 },
    intervalMs: 60_000,
    timeoutMs: 10_000,
    auth: 'login',
    allowPlaintextAuth: false,
    mailbox: 'INBOX',
    expect: {},
    list: [{ reference: '', pattern: '*' }],
  });
  assert.deepEqual(jobs, [
    {
      key: 'local',
      target: 'local',
      intervalMs: 60_000,
      spec: {
        target: 'local',
        host: '127.0.0.1',
        port: 143,
        tls: 'starttls',
        tlsConfig: { insecureSkipVerify: false },
        timeoutMs: 10_000,
        limits: { maxLineBytes: 65_536, maxLiteralBytes: 1_048_576, maxResponsesPerCommand: 10_000 },
      },
    },
  ]);
});

test('port defaults to 993 for implicit TLS and 143 otherwise', async () => {
  const { config } = await loadConfigFile(join(DIR, 'valid/ports.yaml'));
  assert.deepEqual(
    config.targets.map((t) => [t.name, t.tls, t.port]),
    [
      ['implicit', 'tls', 993],
      ['starttls', 'starttls', 143],
      ['cleartext', 'none', 143],
      ['explicit', 'tls', 10993],
      ['ipv6', 'starttls', 143],
    ],
  );
});

test('the checksum is the sha256 of the file bytes', async () => {
  const path = join(scratch, 'checksum.yaml');
  await writeFile(path, 'targets: []\n');
  const first = await loadConfigFile(path);
  assert.equal(first.checksum, createHash('sha256').update('targets: []\n').digest('hex'));
  assert.equal((await loadConfigFile(path)).checksum, first.checksum);
  await writeFile(path, 'targets: []  # edited\n');
  assert.notEqual((await loadConfigFile(path)).checksum, first.checksum);
});

test('an empty file is a valid config with no targets', async () => {
  const path = join(scratch, 'empty.yaml');
  await writeFile(path, '');
  const loaded = await loadConfigFile(path);
  assert.equal(loaded.jobs.length, 0);
  assert.deepEqual(loaded.warnings, [`${path}: targets: no targets: the exporter will probe nothing`]);
});

test('`targets:` and `accounts:` with every entry commented out read as empty', async () => {
  const path = join(scratch, 'commented.yaml');
  await writeFile(path, 'targets:\n  - name: t\n    host: h\n    accounts:\n    #  - username: u\n');
  const loaded = await loadConfigFile(path);
  assert.deepEqual(loaded.config.targets[0]?.accounts, []);
});

test('tls: none with a login and no allow_plaintext_auth warns that every login will be refused', async () => {
  const path = join(scratch, 'plaintext.yaml');
  await writeFile(
    path,
    'targets:\n  - name: t\n    host: h\n    tls: none\n    accounts:\n      - username: u\n        password_env: IMAP_FIXTURE_PASSWORD\n',
  );
  const loaded = await loadConfigFile(path, { env: ENV });
  assert.deepEqual(loaded.warnings, [
    `${path}:6: targets[0].accounts[0]: tls is none and allow_plaintext_auth is false: every login will fail with plaintext_refused`,
  ]);
});

test('tls_config.session_resumption is off unless set, inherited, and overridden per target', async () => {
  const path = join(scratch, 'resumption.yaml');
  await writeFile(
    path,
    [
      'defaults:',
      '  tls_config: { session_resumption: 15m }',
      'targets:',
      '  - { name: inherits, host: a }',
      '  - { name: own, host: b, tls_config: { session_resumption: 30s } }',
      '',
    ].join('\n'),
  );
  const { config } = await loadConfigFile(path);
  assert.deepEqual(
    config.targets.map((t) => t.tlsConfig.sessionResumptionMs),
    [900_000, 30_000],
  );
  await writeFile(path, 'targets:\n  - { name: t, host: a }\n');
  assert.equal((await loadConfigFile(path)).config.targets[0]?.tlsConfig.sessionResumptionMs, undefined);
  await writeFile(path, 'targets:\n  - { name: t, host: a, tls_config: { session_resumption: 100ms } }\n');
  await assert.rejects(loadConfigFile(path), (error: Error) => {
    assert.match(error.message, /targets\[0\]\.tls_config\.session_resumption: expected a full handshake interval of at least 1s/);
    return true;
  });
});

test('the shipped example loads on a machine with no secrets', async () => {
  const loaded = await loadConfigFile(join(process.cwd(), 'config/imap-exporter.yaml'), { env: {} });
  assert.deepEqual(loaded.warnings, []);
  assert.deepEqual(
    loaded.jobs.map((job) => [job.key, job.spec.host, job.spec.port, job.spec.tls, job.spec.account]),
    [['local', '127.0.0.1', 143, 'starttls', undefined]],
  );
});

test("the shipped example's commented-out targets are valid once uncommented", async () => {
  const example = await readFile(join(process.cwd(), 'config/imap-exporter.yaml'), 'utf8');
  await writeFile(join(scratch, 'testuser'), 'example-password\n');
  // A CA file must hold a certificate that parses: a throwaway self-signed one.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=example CA',
    '-days', '1', '-keyout', join(scratch, 'ca.key'), '-out', join(scratch, 'ca.pem')], { stdio: 'ignore' });
  const uncommented = example
    .split('\n')
    .map((line) => (/^ {2}# (-| {2})/.test(line) ? line.replace('  # ', '  ') : line))
    .join('\n')
    .replace('/run/secrets/testuser', join(scratch, 'testuser'))
    .replace('/etc/imap_exporter/ca.pem', join(scratch, 'ca.pem'));
  const path = join(scratch, 'example-uncommented.yaml');
  await writeFile(path, uncommented);
  const loaded = await loadConfigFile(path, { env: {} });
  assert.deepEqual(
    loaded.jobs.map((job) => [job.key, job.spec.port, job.spec.tls]),
    [
      ['local', 143, 'starttls'],
      ['courier-main/probe-user', 143, 'starttls'],
      ['mail-tls', 993, 'tls'],
    ],
  );
  assert.deepEqual(loaded.jobs[1]?.spec.account?.list, [
    { reference: '', pattern: '*' },
    { reference: '', pattern: '#shared.*', expect: { minFolders: 1 } },
  ]);
  assert.deepEqual(loaded.jobs[1]?.spec.account?.expect, { minMessages: 1 });
  assert.equal(await loaded.jobs[1]?.spec.account?.password(), 'example-password');
  assert.deepEqual(loaded.jobs[2]?.spec.tlsConfig, {
    caFile: join(scratch, 'ca.pem'),
    serverName: 'mail.example.com',
    insecureSkipVerify: false,
  });
});
