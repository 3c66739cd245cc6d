import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMetricsRegistry, type ReloadState } from '../../src/metrics/collector.js';
import { ExpositionText } from '../../src/metrics/exposition.js';
import { probeExposition } from '../../src/metrics/probe-registry.js';
import { jobBase, JOB_SERIES, TARGET_SERIES, targetBase, writeGauges, writeIntervals } from '../../src/metrics/series.js';
import { ResultStore } from '../../src/scheduler/results.js';
import { hintFor } from '../../src/probe/hints.js';
import type { Reason } from '../../src/probe/reasons.js';
import type { Stage } from '../../src/probe/stages.js';
import type { ProbeFacts, ProbeJob, ProbeResult } from '../../src/probe/types.js';
import { testJob } from '../helpers/jobs.js';
import { find, parseExpositionFull, promtoolCheck, promtoolProblems, select, type Sample } from '../helpers/exposition.js';

// ---- synthetic results ------------------------------------------------------------

const job = testJob;

const TLS = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', certNotAfter: 1_790_000_000, authorized: true };
const CAPS = ['IMAP4rev1', 'SASL-IR', 'IDLE', 'AUTH=PLAIN', 'auth=login'];

/** Stages `passed` then optionally one failed stage; stage i takes (i + 1) * 10 ms. */
function result(j: ProbeJob, endedAt: number, passed: Stage[], facts: Partial<ProbeFacts>, fail?: [Stage, Reason]): ProbeResult {
  const stages = passed.map((stage, i) => ({ stage, success: true, durationSeconds: (i + 1) / 100 }));
  if (fail) stages.push({ stage: fail[0], success: false, durationSeconds: 1.5 });
  const durationSeconds = stages.reduce((sum, s) => sum + s.durationSeconds, 0);
  return {
    target: j.target,
    account: j.account,
    success: !fail,
    startedAt: endedAt - durationSeconds * 1000,
    endedAt,
    durationSeconds,
    stages,
    failure: fail && { stage: fail[0], reason: fail[1], hint: hintFor(fail[1]), detail: 'a NO Login failed.' },
    facts: { lists: [], ...facts },
    transcript: [{ atMs: 0, direction: 'S', text: '* OK IMAP ready' }],
  };
}

const STARTTLS_STAGES: Stage[] = ['resolve', 'connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout'];

function passingStarttls(j: ProbeJob, endedAt: number): ProbeResult {
  return result(j, endedAt, STARTTLS_STAGES, {
    tls: TLS,
    capabilities: CAPS,
    capabilitiesAfterTls: CAPS,
    mailbox: { name: 'INBOX', exists: 42, recent: 1, uidValidity: 1_700_000_000, writable: true },
    lists: [
      {
        reference: '',
        pattern: '*',
        folders: ['INBOX', 'Sent', 'Trash'].map((name) => ({ name, delimiter: '.', flags: [] })),
        expectedFolders: [{ name: 'Sent', present: true }, { name: 'Archive', present: false }],
      },
      {
        reference: '#shared.',
        pattern: '*',
        folders: [{ name: '#shared.team', delimiter: '.', flags: [] }],
        expectedFolders: [{ name: '#shared.team', present: true }, { name: 'Archive', present: false }],
      },
    ],
  });
}

const loginAuthFailed = (j: ProbeJob, endedAt: number): ProbeResult =>
  result(j, endedAt, ['resolve', 'connect', 'greeting', 'starttls'], { tls: TLS, capabilities: CAPS, capabilitiesAfterTls: CAPS }, ['login', 'auth_failed']);

const unauthenticated = (j: ProbeJob, endedAt: number): ProbeResult =>
  result(j, endedAt, ['resolve', 'connect', 'tls', 'greeting', 'logout'], { tls: TLS, capabilities: ['IMAP4rev1', 'IDLE'], capabilitiesAfterTls: ['IMAP4rev1', 'IDLE'] });

const tlsExpired = (j: ProbeJob, endedAt: number): ProbeResult =>
  result(j, endedAt, ['resolve', 'connect'], { tls: { ...TLS, certNotAfter: 1_600_000_000, authorized: false } }, [
    'tls',
    'tls_certificate_expired',
  ]);

// ---- harness ----------------------------------------------------------------------

function setup(jobs: ProbeJob[]) {
  const results = new ResultStore();
  const config = { jobs };
  const reload: ReloadState = { lastReloadSuccessful: true, lastReloadSuccessTimestamp: 1_750_000_000 };
  const registry = createMetricsRegistry({
    results,
    jobs: () => config.jobs,
    buildInfo: { version: '0.1.0', nodeVersion: 'v20.0.0' },
    reloadState: () => reload,
  });
  const scrape = async () => parseExpositionFull(await registry.metrics());
  return { results, config, reload, registry, scrape };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return find(samples, name, labels)?.value;
}

const A = { target: 'courier', account: 'probe-user' };

describe('/metrics collector', () => {
  it('renders every series of a passing STARTTLS probe', async () => {
    const j = job('courier', 'probe-user');
    const { results, scrape } = setup([j]);
    results.record(j, passingStarttls(j, 1_760_000_000_000));
    const { samples, types } = await scrape();
    const { durationSeconds } = passingStarttls(j, 1_760_000_000_000);

    assert.equal(value(samples, 'imap_probe_success', A), 1);
    assert.deepEqual(
      select(samples, 'imap_probe_phase_success', A).map((s) => [s.labels.phase, s.value]),
      STARTTLS_STAGES.map((stage) => [stage, 1]),
    );
    assert.equal(value(samples, 'imap_probe_phase_duration_seconds', { ...A, phase: 'login' }), 0.05);
    assert.equal(select(samples, 'imap_probe_phase_duration_seconds').length, 8, 'no tls stage: it was not reached');
    assert.equal(value(samples, 'imap_probe_duration_seconds', A), durationSeconds);
    assert.equal(value(samples, 'imap_probe_interval_seconds', A), 60);
    assert.deepEqual(select(samples, 'imap_probe_failure_info'), [], 'no failure, no series');
    assert.equal(value(samples, 'imap_probes_total', A), 1);
    assert.deepEqual(select(samples, 'imap_probe_failures_total'), []);
    assert.equal(value(samples, 'imap_probe_skipped_total', A), 0);
    assert.equal(value(samples, 'imap_probe_last_run_timestamp_seconds', A), 1_760_000_000);
    assert.equal(value(samples, 'imap_probe_last_success_timestamp_seconds', A), 1_760_000_000);
    assert.equal(value(samples, 'imap_tls_cert_not_after_timestamp_seconds', { target: 'courier' }), 1_790_000_000);
    assert.equal(value(samples, 'imap_tls_info', { target: 'courier', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }), 1);
    assert.deepEqual(
      select(samples, 'imap_server_capability', { target: 'courier' }).map((s) => s.labels.capability),
      ['IMAP4REV1', 'SASL-IR', 'IDLE', 'AUTH=PLAIN', 'AUTH=LOGIN'],
    );
    const inbox = { ...A, mailbox: 'INBOX' };
    assert.equal(value(samples, 'imap_mailbox_messages', inbox), 42);
    assert.equal(value(samples, 'imap_mailbox_recent', inbox), 1);
    assert.equal(value(samples, 'imap_mailbox_uidvalidity', inbox), 1_700_000_000);
    assert.equal(value(samples, 'imap_mailbox_writable', inbox), 1);
    assert.equal(value(samples, 'imap_folders', { ...A, pattern: '*' }), 3);
    assert.equal(value(samples, 'imap_folders', { ...A, pattern: '*', reference: '#shared.' }), 1);
    assert.deepEqual(
      select(samples, 'imap_folder_present').map((s) => [s.labels.folder, s.value]),
      [['Sent', 1], ['Archive', 0], ['#shared.team', 1]],
      'one series per expected name, however many LISTs expect it',
    );
    assert.equal(value(samples, 'imap_probe_phase_latency_seconds_count', { target: 'courier', phase: 'list' }), 1);
    assert.equal(value(samples, 'imap_probe_phase_latency_seconds_bucket', { target: 'courier', phase: 'list', le: '0.005' }), 0);
    assert.equal(value(samples, 'imap_probe_phase_latency_seconds_bucket', { target: 'courier', phase: 'list', le: '0.1' }), 1);
    assert.equal(value(samples, 'imap_exporter_jobs'), 1);
    assert.equal(value(samples, 'imap_exporter_config_last_reload_successful'), 1);
    assert.equal(value(samples, 'imap_exporter_config_last_reload_success_timestamp_seconds'), 1_750_000_000);
    assert.equal(value(samples, 'imap_exporter_build_info', { version: '0.1.0', node_version: 'v20.0.0' }), 1);
    assert.equal(value(samples, 'imap_exporter_shard_info', { index: '0', count: '1' }), 1, 'present when not sharded');
    assert.ok(select(samples, 'process_cpu_user_seconds_total').length === 1, 'default process metrics');
    assert.equal(types.get('imap_probe_phase_latency_seconds'), 'histogram');
    assert.equal(types.get('imap_probes_total'), 'counter');
    assert.equal(types.get('imap_probe_failures_total'), 'counter');
    assert.equal(types.get('imap_probe_success'), 'gauge');
  });

  it('a login failure has login=0, no later stages, and counts by stage and reason', async () => {
    const j = job('courier', 'probe-user');
    const { results, scrape } = setup([j]);
    results.record(j, passingStarttls(j, 1_760_000_000_000));
    results.record(j, loginAuthFailed(j, 1_760_000_060_000));
    let { samples } = await scrape();
    assert.equal(value(samples, 'imap_probe_success', A), 0);
    assert.deepEqual(
      select(samples, 'imap_probe_phase_success', A).map((s) => [s.labels.phase, s.value]),
      [['resolve', 1], ['connect', 1], ['greeting', 1], ['starttls', 1], ['login', 0]],
    );
    assert.deepEqual(select(samples, 'imap_mailbox_messages'), [], 'no SELECT in the latest probe');
    assert.deepEqual(select(samples, 'imap_folders'), []);
    assert.deepEqual(select(samples, 'imap_folder_present'), [], 'no LIST, no presence either way');
    assert.equal(value(samples, 'imap_probe_failures_total', { ...A, phase: 'login', reason: 'auth_failed' }), 1);
    assert.deepEqual(
      select(samples, 'imap_probe_failure_info').map((s) => s.labels),
      [{ ...A, phase: 'login', reason: 'auth_failed' }],
      'the latest failure, once',
    );
    assert.equal(value(samples, 'imap_probe_last_success_timestamp_seconds', A), 1_760_000_000, 'the earlier pass');
    assert.equal(value(samples, 'imap_probe_last_run_timestamp_seconds', A), 1_760_000_060);
    assert.equal(
      value(samples, 'imap_probe_phase_latency_seconds_count', { target: 'courier', phase: 'login' }),
      1,
      'the failed login is not a latency observation',
    );

    results.record(j, loginAuthFailed(j, 1_760_000_120_000));
    results.recordSkipped(j);
    ({ samples } = await scrape());
    assert.equal(value(samples, 'imap_probe_failures_total', { ...A, phase: 'login', reason: 'auth_failed' }), 2);
    assert.equal(value(samples, 'imap_probes_total', A), 3);
    assert.equal(value(samples, 'imap_probe_skipped_total', A), 1);

    results.record(j, passingStarttls(j, 1_760_000_180_000));
    ({ samples } = await scrape());
    assert.deepEqual(select(samples, 'imap_probe_failure_info'), [], 'absent once a probe passed');
  });

  it('an unauthenticated probe has no account label and no login stage', async () => {
    const j = job('anon');
    const { results, scrape } = setup([j]);
    results.record(j, unauthenticated(j, 1_760_000_000_000));
    const { samples } = await scrape();
    const own = samples.filter((s) => s.labels.target === 'anon');
    assert.ok(own.length > 0);
    assert.ok(own.every((s) => !('account' in s.labels)), 'account is omitted, never account=""');
    assert.equal(value(samples, 'imap_probe_success', { target: 'anon' }), 1);
    assert.deepEqual(
      select(samples, 'imap_probe_phase_success', { target: 'anon' }).map((s) => s.labels.phase),
      ['resolve', 'connect', 'tls', 'greeting', 'logout'],
    );
    assert.equal(value(samples, 'imap_probes_total', { target: 'anon' }), 1);
  });

  it('a server cannot blow up cardinality through its CAPABILITY line', async () => {
    const j = job('flood');
    const { results, scrape } = setup([j]);
    const capabilities = ['IMAP4rev1', 'X'.repeat(65), ...Array.from({ length: 5000 }, (_, i) => `X-CAP-${i}`)];
    const flooded = unauthenticated(j, 1_760_000_000_000);
    results.record(j, { ...flooded, facts: { ...flooded.facts, capabilities, capabilitiesAfterTls: capabilities } });
    const { samples } = await scrape();
    const exported = select(samples, 'imap_server_capability', { target: 'flood' }).map((s) => s.labels.capability);
    assert.equal(exported.length, 100);
    assert.equal(exported[0], 'IMAP4REV1');
    assert.ok(exported.every((c) => c !== undefined && c.length <= 64));
  });

  it('an expired certificate fails at tls and still reports its notAfter', async () => {
    const j = job('old', 'probe-user');
    const { results, scrape } = setup([j]);
    results.record(j, tlsExpired(j, 1_760_000_000_000));
    const { samples } = await scrape();
    const labels = { target: 'old', account: 'probe-user' };
    assert.equal(value(samples, 'imap_probe_phase_success', { ...labels, phase: 'tls' }), 0);
    assert.equal(value(samples, 'imap_probe_phase_duration_seconds', { ...labels, phase: 'tls' }), 1.5);
    assert.equal(value(samples, 'imap_probe_failures_total', { ...labels, phase: 'tls', reason: 'tls_certificate_expired' }), 1);
    assert.equal(value(samples, 'imap_tls_cert_not_after_timestamp_seconds', { target: 'old' }), 1_600_000_000);
    assert.equal(find(samples, 'imap_probe_last_success_timestamp_seconds', labels), undefined, 'absent until one passed');
    assert.deepEqual(select(samples, 'imap_server_capability'), []);
  });

  it('per-target series come from the latest result among the target’s accounts', async () => {
    const a = job('courier', 'a');
    const b = job('courier', 'b');
    const { results, scrape } = setup([a, b]);
    results.record(b, tlsExpired(b, 1_760_000_000_000));
    results.record(a, passingStarttls(a, 1_760_000_001_000));
    const { samples } = await scrape();
    assert.equal(value(samples, 'imap_tls_cert_not_after_timestamp_seconds', { target: 'courier' }), 1_790_000_000);
    assert.equal(select(samples, 'imap_server_capability', { target: 'courier' }).length, 5);
    assert.equal(value(samples, 'imap_probe_phase_latency_seconds_count', { target: 'courier', phase: 'connect' }), 2);
  });

  it('between two scrapes of one config, shows what was recorded and skipped meanwhile, the target from the run that ended last', async () => {
    const a = job('courier', 'a');
    const b = job('courier', 'b');
    const { results, scrape } = setup([a, b]);
    const first = (await scrape()).samples;
    assert.equal(value(first, 'imap_probes_total', { target: 'courier', account: 'b' }), 0);
    // Two accounts' runs overlap: the one that ended last is recorded first.
    results.record(a, passingStarttls(a, 1_760_000_001_000));
    results.record(b, tlsExpired(b, 1_760_000_000_000));
    results.recordSkipped(a);
    const { samples } = await scrape();
    assert.equal(value(samples, 'imap_tls_cert_not_after_timestamp_seconds', { target: 'courier' }), 1_790_000_000, 'a’s certificate: its run ended later');
    assert.equal(select(samples, 'imap_server_capability', { target: 'courier' }).length, 5);
    assert.equal(value(samples, 'imap_probe_skipped_total', { target: 'courier', account: 'a' }), 1);
    assert.equal(value(samples, 'imap_probes_total', { target: 'courier', account: 'b' }), 1);
    assert.equal(value(samples, 'imap_probe_success', { target: 'courier', account: 'b' }), 0);
  });

  it('a removed job vanishes from the next scrape, histogram included; kept counters are untouched', async () => {
    const kept = job('courier', 'probe-user');
    const gone = job('dovecot', 'probe-user');
    const { results, config, scrape } = setup([kept, gone]);
    for (const [j, t] of [[kept, 1], [gone, 1], [kept, 2], [gone, 2]] as const) {
      results.record(j, loginAuthFailed(j, 1_760_000_000_000 + t * 60_000));
    }
    const before = (await scrape()).samples;
    assert.ok(before.some((s) => s.labels.target === 'dovecot' && s.name.startsWith('imap_probe_phase_latency_seconds')));

    config.jobs = [kept]; // the reload swaps the config first: gone at once, before retain
    let { samples } = await scrape();
    assert.deepEqual(samples.filter((s) => s.labels.target === 'dovecot'), []);
    results.retain(config.jobs);
    results.record(gone, loginAuthFailed(gone, 1_760_000_300_000)); // a late in-flight result
    ({ samples } = await scrape());
    assert.deepEqual(samples.filter((s) => s.labels.target === 'dovecot'), []);
    assert.equal(value(samples, 'imap_exporter_jobs'), 1);
    const courier = (ss: Sample[]) => ss.filter((s) => s.labels.target === 'courier' && !s.name.endsWith('_seconds'));
    assert.deepEqual(courier(samples), courier(before));
    assert.equal(value(samples, 'imap_probe_failures_total', { ...A, phase: 'login', reason: 'auth_failed' }), 2);
  });

  it('a configured job without a result has zeroed counters and nothing else', async () => {
    const j = job('fresh', 'u');
    const { scrape, reload } = setup([j]);
    reload.lastReloadSuccessful = false;
    reload.lastReloadSuccessTimestamp = undefined;
    const { samples } = await scrape();
    assert.deepEqual(
      samples.filter((s) => s.labels.target === 'fresh').map((s) => [s.name, s.value]),
      [['imap_probe_interval_seconds', 60], ['imap_probes_total', 0], ['imap_probe_skipped_total', 0]],
      'the interval is config: there before the first run',
    );
    assert.equal(value(samples, 'imap_exporter_config_last_reload_successful'), 0);
    assert.equal(find(samples, 'imap_exporter_config_last_reload_success_timestamp_seconds'), undefined);
  });

  it('HELP texts say the values are the latest scheduled result', async () => {
    const { help } = await setup([]).scrape();
    const perRun = ['imap_probe_success', 'imap_probe_phase_success', 'imap_probe_phase_duration_seconds', 'imap_probe_duration_seconds',
      'imap_probe_last_run_timestamp_seconds', 'imap_tls_cert_not_after_timestamp_seconds', 'imap_tls_info', 'imap_server_capability',
      'imap_mailbox_messages', 'imap_mailbox_recent', 'imap_mailbox_uidvalidity', 'imap_mailbox_writable', 'imap_folders', 'imap_folder_present'];
    for (const name of perRun) assert.match(help.get(name) ?? '', /latest scheduled probe/, name);
    assert.match(help.get('imap_probe_success') ?? '', /not per scrape; \/probe runs one on demand/);
    for (const name of ['imap_probes_total', 'imap_probe_failures_total', 'imap_probe_phase_latency_seconds']) {
      assert.match(help.get(name) ?? '', /scheduled probe/i, name);
    }
  });

  it('the whole output, odd label values included, passes promtool check metrics', async () => {
    const jobs = [job('courier', 'probe-user'), job('anon'), job('old', 'x'), job('odd "target"\\', 'a\nb')];
    const { results, registry } = setup(jobs);
    const [c, anon, old, odd] = jobs as [ProbeJob, ProbeJob, ProbeJob, ProbeJob];
    results.record(c, passingStarttls(c, 1_760_000_000_000));
    results.record(c, loginAuthFailed(c, 1_760_000_060_000));
    results.record(anon, unauthenticated(anon, 1_760_000_000_000));
    results.record(old, tlsExpired(old, 1_760_000_000_000));
    const weird = passingStarttls(odd, 1_760_000_000_000);
    weird.facts.mailbox = { name: 'Archiv "alt" \\ Ü', exists: 0, writable: false };
    results.record(odd, weird);
    const text = await registry.metrics();
    const { samples } = parseExpositionFull(text);
    assert.equal(value(samples, 'imap_mailbox_writable', { target: 'odd "target"\\', account: 'a\nb', mailbox: 'Archiv "alt" \\ Ü' }), 0);
    // Only prom-client's own nodejs_active_*_total gauges may draw lint findings.
    assert.deepEqual(await promtoolProblems(text), []);
  });
});

describe('/probe registry', () => {
  it('holds only this probe’s series, with on-demand HELP texts', async () => {
    const j = job('courier', 'probe-user');
    const run = passingStarttls(j, 1_760_000_000_000);
    const text = probeExposition(j, run);
    const { samples, types, help } = parseExpositionFull(text);
    assert.deepEqual([...new Set(types.values())], ['gauge'], 'no counters or histograms across runs');
    assert.ok(samples.every((s) => s.name.startsWith('imap_')), 'no process metrics');
    assert.equal(value(samples, 'imap_probe_success', A), 1);
    assert.equal(select(samples, 'imap_probe_phase_success', A).length, 8);
    assert.equal(value(samples, 'imap_probe_duration_seconds', A), run.durationSeconds);
    assert.equal(value(samples, 'imap_tls_info', { target: 'courier', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }), 1);
    assert.equal(select(samples, 'imap_server_capability').length, 5);
    assert.equal(value(samples, 'imap_mailbox_messages', { ...A, mailbox: 'INBOX' }), 42);
    assert.equal(value(samples, 'imap_folders', { ...A, pattern: '*' }), 3);
    assert.equal(value(samples, 'imap_folder_present', { ...A, folder: 'Archive' }), 0);
    assert.equal(value(samples, 'imap_probe_interval_seconds', A), 60);
    assert.deepEqual(select(samples, 'imap_probe_failure_info'), []);
    assert.deepEqual(
      [...types.keys()].filter((n) => /total|timestamp_seconds$|latency|exporter/.test(n) && n !== 'imap_tls_cert_not_after_timestamp_seconds'),
      [],
    );
    assert.match(help.get('imap_probe_success') ?? '', /this probe/);
    assert.ok([...help.values()].every((h) => !h.includes('scheduled')));
    const { code, output } = await promtoolCheck(text);
    assert.equal(code, 0, output);
  });

  it('is fresh per call: a failed unauthenticated run shows only its own series', async () => {
    const j = job('old');
    probeExposition(job('courier', 'probe-user'), passingStarttls(job('courier', 'probe-user'), 1));
    const { samples } = parseExpositionFull(probeExposition(j, tlsExpired(j, 1_760_000_000_000)));
    assert.ok(samples.every((s) => s.labels.target === 'old' && !('account' in s.labels)));
    assert.deepEqual(
      select(samples, 'imap_probe_phase_success').map((s) => [s.labels.phase, s.value]),
      [['resolve', 1], ['connect', 1], ['tls', 0]],
    );
    assert.equal(value(samples, 'imap_probe_success', { target: 'old' }), 0);
    assert.deepEqual(
      select(samples, 'imap_probe_failure_info').map((s) => [s.labels, s.value]),
      [[{ target: 'old', phase: 'tls', reason: 'tls_certificate_expired' }, 1]],
      'the reason reaches probe mode',
    );
  });

  it('writes byte for byte what the streaming writer of /metrics writes for the same run', async () => {
    const odd = job('odd "target"\\', 'a\nb');
    const weird = passingStarttls(odd, 1_760_000_000_000);
    weird.facts.mailbox = { name: 'Archiv "alt" \\ Ü', exists: 0, writable: false };
    const runs: Array<[ProbeJob, ProbeResult]> = [
      [job('courier', 'probe-user'), passingStarttls(job('courier', 'probe-user'), 1)],
      [job('courier', 'bob'), loginAuthFailed(job('courier', 'bob'), 1)],
      [job('anon'), unauthenticated(job('anon'), 1)],
      [job('old'), tlsExpired(job('old'), 1)],
      [odd, weird],
    ];
    for (const [j, run] of runs) {
      const out = new ExpositionText();
      const base = jobBase(j.target, j.account);
      await writeGauges(out, JOB_SERIES, 'on-demand', [[base, run]]);
      await writeIntervals(out, 'on-demand', [[base, j]]);
      await writeGauges(out, TARGET_SERIES, 'on-demand', [[targetBase(j.target), run]]);
      assert.equal(probeExposition(j, run), out.toString(), `${j.target}/${j.account ?? ''}`);
    }
  });
});
