// Three daemons as real processes on one config, sharded 3 ways (two by --shard.index, one by
// --shard.from-hostname with a StatefulSet pod's name): every job is probed and exported by
// exactly one of them; /probe still runs another shard's job; a reload re-applies the split.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { minimalImap, startFakeImapServer, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { find, parseExposition, select, type Sample } from '../helpers/exposition.js';
import { runMain } from '../helpers/spawn.js';
import { shardOwning } from '../../src/scheduler/shard.js';

const COUNT = 3;
const ACCOUNTS = Array.from({ length: 10 }, (_, i) => `u${i}`);

let dir: string;
let config: string;
let server: FakeImapServer;
let daemons: RunningDaemon[] = [];

/** 20 unauthenticated targets and 2 targets with 5 login accounts each (30 jobs), plus `extra` targets. */
function configText(extra = 0): string {
  const lines = ['defaults:', '  interval: 1s', '  timeout: 800ms', '  tls: none', '  allow_plaintext_auth: true', 'targets:'];
  const at = `host: ${server.host}, port: ${server.port}`;
  for (let i = 0; i < 20 + extra; i++) lines.push(`  - { name: t${i}, ${at} }`);
  for (const [t, users] of [['mail-a', ACCOUNTS.slice(0, 5)], ['mail-b', ACCOUNTS.slice(5)]] as const) {
    lines.push(`  - name: ${t}`, `    ${at.replace(', ', '\n    ')}`, '    accounts:');
    for (const user of users) lines.push(`      - { username: ${user}, password: pw-${user} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** Every job of configText(extra) as `target` or `target/account` (the scheduler's job key). */
function jobKeys(extra = 0): string[] {
  const unauthenticated = Array.from({ length: 20 + extra }, (_, i) => `t${i}`);
  return [...unauthenticated, ...ACCOUNTS.slice(0, 5).map((u) => `mail-a/${u}`), ...ACCOUNTS.slice(5).map((u) => `mail-b/${u}`)];
}

const keyOf = (s: Sample) => (s.labels.account === undefined ? s.labels.target! : `${s.labels.target}/${s.labels.account}`);

/** Scrapes each daemon until every job it exports has been probed and passed; returns the scrapes. */
function scrapeAllProbed(expectedTotal: number): Promise<Sample[][]> {
  return Promise.all(
    daemons.map((daemon) =>
      daemon.waitFor('every exported job to have passed a probe', async () => {
        const samples = await daemon.scrape();
        const success = select(samples, 'imap_probe_success');
        const jobs = find(samples, 'imap_exporter_jobs')?.value;
        const configured = daemon.logs().includes(`"config_jobs":${expectedTotal}`);
        return configured && success.length === jobs && success.every((s) => s.value === 1) ? samples : undefined;
      }),
    ),
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-shard-'));
  server = await startFakeImapServer(minimalImap({ users: Object.fromEntries(ACCOUNTS.map((u) => [u, `pw-${u}`])) }));
  config = join(dir, 'exporter.yaml');
  await writeFile(config, configText());
  daemons = await Promise.all([
    startDaemon(config, ['--shard.index=0', `--shard.count=${COUNT}`]),
    startDaemon(config, ['--shard.index', '1', '--shard.count', String(COUNT)]),
    // As in the StatefulSet: the index is the pod name's ordinal.
    startDaemon(config, ['--shard.from-hostname', `--shard.count=${COUNT}`], { HOSTNAME: 'imap-exporter-2' }),
  ]);
});

after(async () => {
  await Promise.all(daemons.map((daemon) => daemon.stop('SIGKILL')));
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('three shards on one config', () => {
  it('every job is probed and exported by exactly one shard, the one rendezvous hashing names', async () => {
    const scrapes = await scrapeAllProbed(30);
    const owned = scrapes.map((samples) => select(samples, 'imap_probe_success').map(keyOf).sort());
    scrapes.forEach((samples, index) => {
      assert.equal(find(samples, 'imap_exporter_shard_info', { index: String(index), count: String(COUNT) })?.value, 1);
      assert.equal(select(samples, 'imap_exporter_shard_info').length, 1);
      assert.equal(find(samples, 'imap_exporter_jobs')?.value, owned[index]!.length, `shard ${index}: imap_exporter_jobs is its share`);
      assert.ok(owned[index]!.length > 0, `shard ${index} has jobs`);
      // Each owned job has run here; no other job has any series here.
      for (const s of select(samples, 'imap_probes_total')) {
        assert.ok(owned[index]!.includes(keyOf(s)), `shard ${index} exports ${keyOf(s)} only if it owns it`);
        assert.ok(s.value >= 1, `shard ${index} probed ${keyOf(s)}`);
      }
      assert.deepEqual(owned[index], jobKeys().filter((key) => shardOwning(key, COUNT) === index).sort());
    });
    assert.deepEqual(owned.flat().sort(), jobKeys().sort(), 'all 30 jobs, each once');
    // The fake server saw every account log in.
    for (const user of ACCOUNTS) assert.ok(server.received.some((line) => new RegExp(`LOGIN "?${user}"? `).test(line)), `${user} logged in`);
  });

  it('logs the shard and its share at start', () => {
    daemons.forEach((daemon, index) => {
      const line = daemon.logs().split('\n').find((l) => l.includes('probe jobs scheduled'));
      assert.ok(line, daemon.logs());
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual([entry.shard_index, entry.shard_count, entry.config_jobs], [index, COUNT, 30]);
      assert.equal(entry.jobs, jobKeys().filter((key) => shardOwning(key, COUNT) === index).length);
    });
  });

  it("/probe runs another shard's job on demand; the status page names the shard", async () => {
    const foreign = jobKeys().find((key) => shardOwning(key, COUNT) === 1 && key.includes('/'))!;
    const [target, account] = foreign.split('/');
    const probe = await daemons[0]!.get(`/probe?target=${target}&account=${account}`);
    assert.equal(probe.status, 200, probe.text);
    assert.equal(find(parseExposition(probe.text), 'imap_probe_success', { target: target!, account: account! })?.value, 1);
    // It stays an on-demand run: shard 0's /metrics does not take the job over.
    assert.equal(find(await daemons[0]!.scrape(), 'imap_probe_success', { target: target!, account: account! }), undefined);

    const page = await daemons[2]!.get('/');
    const mine = jobKeys().filter((key) => shardOwning(key, COUNT) === 2).length;
    assert.match(page.text, new RegExp(`Shard 2 of 3 \\(indexes 0–2\\): ${mine} of the config's 30 probe jobs are this shard's`));
    const elsewhere = await daemons[2]!.get(`/transcript?target=${target}&account=${account}`);
    assert.match(elsewhere.text, /This replica is shard 2 of 3 and another shard schedules this job/);
    assert.match((await daemons[1]!.get(`/transcript?target=${target}&account=${account}`)).text, /== Latest scheduled probe/);
  });

  it('a reload re-applies the split: new jobs go to exactly one shard each', async () => {
    await writeFile(config, configText(6));
    for (const daemon of daemons) assert.equal((await daemon.get('/-/reload', { method: 'POST' })).status, 200);
    const scrapes = await scrapeAllProbed(36);
    const owned = scrapes.map((samples) => select(samples, 'imap_probe_success').map(keyOf));
    assert.deepEqual(owned.flat().sort(), jobKeys(6).sort(), 'all 36 jobs, each once');
    scrapes.forEach((samples, index) => assert.equal(find(samples, 'imap_exporter_jobs')?.value, owned[index]!.length));
  });

  it('a host name without an ordinal stops the daemon at start: exit 2, naming the flag and the name', async () => {
    const run = await runMain([`--config.file=${config}`, '--shard.from-hostname', '--shard.count=3'], { env: { HOSTNAME: 'build-box' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--shard\.from-hostname: the host name "build-box" does not end in -<ordinal>/);
    assert.doesNotMatch(run.stdout, /listening/);
  });
});
