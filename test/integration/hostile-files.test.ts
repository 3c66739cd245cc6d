// Hostile files: a FIFO, /dev/zero, a directory, an oversized file or a lone PEM marker as
// the config, a password file or a CA file is refused at once with a clear message (never a
// hang, never "unknown error"); password files turned into FIFOs under a running daemon fail
// only their own accounts, and SIGTERM still exits 0.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runConfigCheck } from '../../src/cli/config-check.js';
import { minimalImap, startFakeImapServer, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDaemon } from '../helpers/daemon.js';
import { find } from '../helpers/exposition.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-files-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

async function configCheck(file: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runConfigCheck([file], { stdout: () => undefined, stderr: (text) => (stderr += text) });
  return { code, stderr };
}

async function configWith(name: string, account: string, tlsConfig = ''): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `defaults:\n  tls_config: { ${tlsConfig} }\ntargets:\n  - name: t\n    host: 127.0.0.1\n    accounts:\n      - { username: u, ${account} }\n`);
  return path;
}

// A hang here (the old blocking read of a FIFO) fails the test by its timeout.
const bounded = { timeout: 20_000 };

describe('hostile files are refused at once by config check', () => {
  it('the config file: a FIFO, /dev/zero, a directory, over 4 MiB', bounded, async () => {
    const big = join(dir, 'big.yaml');
    await writeFile(big, `# ${'x'.repeat(4 * 1024 * 1024)}\ntargets: []\n`);
    const cases: [string, string][] = [
      [fifo('config.fifo'), 'not a regular file (a FIFO)'],
      ['/dev/zero', 'not a regular file (a character device)'],
      [dir, 'not a regular file (a directory)'],
      [big, 'larger than the limit of 4 MiB'],
    ];
    for (const [file, words] of cases) {
      const { code, stderr } = await configCheck(file);
      assert.equal(code, 1, stderr);
      assert.equal(stderr, `${file}: cannot read the config file: ${words}\n`);
    }
  });

  it('a password file: a FIFO, /dev/zero, over 4 KiB', bounded, async () => {
    const big = join(dir, 'big.pw');
    await writeFile(big, 'p'.repeat(4097));
    const cases: [string, string][] = [
      [fifo('pw.fifo'), 'not a regular file (a FIFO)'],
      ['/dev/zero', 'not a regular file (a character device)'],
      [big, 'larger than the limit of 4 KiB'],
    ];
    for (const [file, words] of cases) {
      const config = await configWith('pw.yaml', `password_file: ${file}`);
      const { code, stderr } = await configCheck(config);
      assert.equal(code, 1, stderr);
      assert.equal(stderr, `${config}:7: targets[0].accounts[0].password_file: cannot read password file ${file}: ${words}\n`);
      assert.doesNotMatch(stderr, /unknown error/);
    }
  });

  it('a CA file: a FIFO, /dev/zero, over 1 MiB, a lone PEM marker', bounded, async () => {
    const big = join(dir, 'big.pem');
    await writeFile(big, 'x'.repeat(1024 * 1024 + 1));
    const marker = join(dir, 'marker.pem');
    await writeFile(marker, '-----BEGIN CERTIFICATE-----\n');
    const cases: [string, string][] = [
      [fifo('ca.fifo'), 'not a regular file (a FIFO)'],
      ['/dev/zero', 'not a regular file (a character device)'],
      [big, 'larger than the limit of 1 MiB'],
      [marker, 'no parseable PEM certificate in it'],
    ];
    for (const [file, words] of cases) {
      const config = await configWith('ca.yaml', 'password: pw', `ca_file: ${file}`);
      const { code, stderr } = await configCheck(config);
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`^${config}:2: defaults\\.tls_config\\.ca_file: cannot read CA file ${file}: ${words.replace(/[()]/g, '\\$&')}\n`));
    }
  });
});

describe('password files turned into FIFOs under a running daemon', () => {
  let server: FakeImapServer;
  after(async () => server?.close());

  it('fail their own accounts with credentials_unavailable; a good account keeps passing; SIGTERM exits 0', bounded, async () => {
    const users = Object.fromEntries(['good', 'f1', 'f2', 'f3', 'f4'].map((user) => [user, `${user}-password`]));
    server = await startFakeImapServer(minimalImap({ users }));
    for (const user of Object.keys(users)) await writeFile(join(dir, `${user}.pw`), `${users[user]}\n`);
    const accounts = Object.keys(users).map((user) => `      - { username: ${user}, password_file: ${user}.pw }\n`).join('');
    const config = join(dir, 'daemon.yaml');
    await writeFile(config, `defaults:\n  interval: 1s\n  timeout: 900ms\n  allow_plaintext_auth: true\n  tls: none\ntargets:\n  - name: fake\n    host: ${server.host}\n    port: ${server.port}\n    accounts:\n${accounts}`);
    const daemon = await startDaemon(config);
    try {
      for (const user of ['f1', 'f2', 'f3', 'f4']) {
        await rm(join(dir, `${user}.pw`));
        fifo(`${user}.pw`);
      }
      const fifosAt = Date.now() / 1000;
      const samples = await daemon.waitFor('every FIFO account to fail, and the good one to pass a second after they appeared', async () => {
        const now = await daemon.scrape();
        const failed = ['f1', 'f2', 'f3', 'f4'].every((account) =>
          find(now, 'imap_probe_failures_total', { target: 'fake', account, phase: 'login', reason: 'credentials_unavailable' }));
        const goodSuccess = find(now, 'imap_probe_last_success_timestamp_seconds', { target: 'fake', account: 'good' })?.value ?? 0;
        return failed && goodSuccess > fifosAt + 1 ? now : undefined;
      });
      assert.equal(find(samples, 'imap_probe_success', { target: 'fake', account: 'good' })?.value, 1);
      const transcript = (await daemon.get('/transcript?target=fake&account=f1')).text;
      assert.match(transcript, /credentials_unavailable: cannot read password file \S+f1\.pw: not a regular file \(a FIFO\)/);
    } finally {
      const stopped = await daemon.stop();
      assert.equal(stopped.code, 0, daemon.logs());
    }
  });
});
