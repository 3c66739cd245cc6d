// The daemon's own exit codes: bad flags 2, a config it cannot load 1, and `config check`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runMain } from '../helpers/spawn.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('imap_exporter daemon command line', () => {
  it('bad flags exit 2 with usage', async () => {
    const run = await runMain(['--log.level=loud']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--log\.level="loud"/);
    assert.match(run.stderr, /usage: imap_exporter/);
  });

  it('--help and --version exit 0 for the daemon, check and config check', async () => {
    for (const [args, usage] of [
      [['--help'], /usage: imap_exporter \[--config\.file/],
      [['check', '--help'], /usage: imap_exporter check HOST/],
      [['check', '-h'], /usage: imap_exporter check HOST/],
      [['config', 'check', '--help'], /usage: imap_exporter config check \[--config\.max-size=4MiB\] FILE/],
    ] as const) {
      const run = await runMain([...args]);
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stdout, usage, args.join(' '));
    }
    for (const args of [['--version'], ['check', '--version'], ['config', 'check', '--version']]) {
      const run = await runMain(args);
      assert.equal(run.code, 0, args.join(' '));
      assert.match(run.stdout, /^imap_exporter \d+\.\d+\.\d+ \(node v\d+/, args.join(' '));
    }
  });

  it('a missing config file exits 1 before listening, naming the path and the default', async () => {
    const run = await runMain([`--config.file=${join(dir, 'nope.yaml')}`, '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.doesNotMatch(run.stdout, /listening/);
    assert.match(run.stdout, /nope\.yaml.*no such file: pass --config\.file=PATH; the default, config\/imap-exporter\.yaml, is relative to the working directory/);
  });

  it('a config that cannot load exits 1, naming the file, line and key', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'targets:\n  - name: a\n    host: 127.0.0.1\n    port: 99999\n');
    const run = await runMain([`--config.file=${file}`, '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /cannot load the config/);
    assert.match(run.stdout, new RegExp(`bad\\.yaml:4: targets\\[0\\]\\.port`));
  });

  it('--config.max-size bounds the config file the daemon reads', async () => {
    const file = join(dir, 'padded.yaml');
    await writeFile(file, `# ${'x'.repeat(2000)}\ntargets: []\n`);
    const run = await runMain([`--config.file=${file}`, '--config.max-size=1KiB', '--web.listen-address=127.0.0.1:0']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /"level":"fatal".*padded\.yaml: cannot read the config file: larger than the limit of 1 KiB","msg":"cannot load the config"/);
  });

  it('the shipped example config passes `config check`; a broken one fails with 1', async () => {
    const good = await runMain(['config', 'check', 'config/imap-exporter.yaml']);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /config\/imap-exporter\.yaml: OK/);
    const file = join(dir, 'typo.yaml');
    await writeFile(file, 'defaults:\n  intervall: 30s\n');
    const bad = await runMain(['config', 'check', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /typo\.yaml:2: defaults\.intervall/);
    assert.equal((await runMain(['config', 'check'])).code, 2);
  });
});
