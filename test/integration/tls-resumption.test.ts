// Opt-in TLS session resumption against a real Dovecot that can resume (one shared
// imap-login process, whose ticket keys outlive a connection): resumed only when asked,
// a full handshake once the last one is as old as the interval, the certificate facts
// those of that full handshake, and never a session from a handshake that did not verify.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { probeExposition } from '../../src/metrics/probe-registry.js';
import { runProbe } from '../../src/probe/run-probe.js';
import { formatTranscript } from '../../src/probe/transcript.js';
import type { ProbeResult, ProbeSpec, TlsSettings } from '../../src/probe/types.js';
import { minimalImap, startFakeImapServer, type TlsCredentials } from '../fakes/fake-imap-server.js';
import { startDovecot, type DovecotServer, type Listener } from '../fixtures/dovecot.js';
import { parseExpositionFull, select } from '../helpers/exposition.js';
import { loginAccount, testJob } from '../helpers/jobs.js';

let dovecot: DovecotServer;
before(async () => {
  dovecot = await startDovecot({ sharedLoginProcess: true });
});
after(() => dovecot?.stop());

const MINUTE = 60_000;

function spec(target: string, listener: Listener, tls: Partial<TlsSettings>, mode: ProbeSpec['tls'] = 'starttls'): ProbeSpec {
  return {
    target,
    host: listener.host,
    port: listener.port,
    tls: mode,
    tlsConfig: { caFile: dovecot.caFile, insecureSkipVerify: false, ...tls },
    timeoutMs: 5000,
    account: loginAccount('alice', dovecot.accounts.alice),
  };
}

async function probeTimes(times: number, probeSpec: ProbeSpec): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (let i = 0; i < times; i += 1) results.push(await runProbe(probeSpec));
  return results;
}

const resumed = (results: ProbeResult[]) => results.map((r) => r.facts.tls?.resumedFrom !== undefined);

describe('TLS session resumption against a real Dovecot', () => {
  it('is off unless configured: every handshake is full, though the server could resume', async () => {
    const results = await probeTimes(3, spec('off', dovecot.imap, {}));
    assert.ok(results.every((r) => r.success), formatTranscript(results[0]!.transcript));
    assert.deepEqual(resumed(results), [false, false, false]);
  });

  it('resumes after one full handshake, keeping that handshake\'s certificate facts and metrics', async () => {
    const results = await probeTimes(3, spec('on', dovecot.imap, { sessionResumptionMs: 10 * MINUTE }));
    assert.ok(results.every((r) => r.success), formatTranscript(results[1]!.transcript));
    assert.deepEqual(resumed(results), [false, true, true]);
    const [full, again] = results as [ProbeResult, ProbeResult];
    assert.equal(full.facts.tls?.certNotAfter, dovecot.pki.serverNotAfter);
    assert.deepEqual(
      { ...again.facts.tls, resumedFrom: undefined },
      { ...full.facts.tls, resumedFrom: undefined },
      'the certificate facts of the full handshake',
    );
    assert.ok(again.facts.tls!.resumedFrom! <= full.endedAt / 1000 && again.facts.tls!.resumedFrom! >= full.startedAt / 1000 - 1);
    assert.match(formatTranscript(again.transcript), /session resumed: certificate as of the full handshake at \d{4}-/);
    const job = testJob('on', 'alice');
    const notAfter = (r: ProbeResult) =>
      select(parseExpositionFull(probeExposition(job, r)).samples, 'imap_tls_cert_not_after_timestamp_seconds').map((s) => s.value);
    assert.deepEqual(notAfter(again), [dovecot.pki.serverNotAfter]);
  });

  it('does a full handshake when the last one is as old as the interval', async () => {
    // An interval shorter than a probe: every handshake finds its session too old.
    const results = await probeTimes(3, spec('short', dovecot.imap, { sessionResumptionMs: 1 }));
    assert.ok(results.every((r) => r.success));
    assert.deepEqual(resumed(results), [false, false, false]);
  });

  it('keeps sessions apart per server identity: implicit TLS on another port starts with a full handshake', async () => {
    await probeTimes(1, spec('starttls', dovecot.imap, { sessionResumptionMs: 10 * MINUTE }));
    const results = await probeTimes(2, spec('implicit', dovecot.imaps, { sessionResumptionMs: 10 * MINUTE }, 'tls'));
    assert.ok(results.every((r) => r.success));
    assert.deepEqual(resumed(results), [false, true]);
  });

  it('never resumes a session from a handshake that did not verify', async () => {
    // No CA: Dovecot's certificate is untrusted, every time, however the session was made.
    const untrusted = spec('untrusted', dovecot.imap, { caFile: undefined, sessionResumptionMs: 10 * MINUTE });
    const results = await probeTimes(2, untrusted);
    assert.deepEqual(results.map((r) => [r.failure?.stage, r.failure?.reason]), [
      ['starttls', 'tls_certificate_invalid'],
      ['starttls', 'tls_certificate_invalid'],
    ]);
    assert.deepEqual(resumed(results), [false, false]);
  });

  // TLS 1.3 tickets arrive after the handshake, when a failed probe has already hung up;
  // TLS 1.2 hands its session over during the handshake, before verification is known.
  it('under TLS 1.2 too: resumes a verified session, never offers an unverified one', async () => {
    const credentials: TlsCredentials = { ...dovecot.pki.server, maxVersion: 'TLSv1.2' };
    const fake = await startFakeImapServer(minimalImap({ tls: credentials }));
    try {
      const listener = { host: fake.host, port: fake.port };
      const trusted = await probeTimes(2, { ...spec('tls12', listener, { sessionResumptionMs: 10 * MINUTE }), account: undefined });
      assert.ok(trusted.every((r) => r.success), formatTranscript(trusted[1]!.transcript));
      assert.equal(trusted[0]!.facts.tls?.version, 'TLSv1.2');
      assert.deepEqual(resumed(trusted), [false, true]);

      const untrusted = await probeTimes(2, {
        ...spec('tls12-untrusted', listener, { caFile: undefined, sessionResumptionMs: 10 * MINUTE }),
        account: undefined,
      });
      assert.deepEqual(untrusted.map((r) => r.failure?.reason), ['tls_certificate_invalid', 'tls_certificate_invalid']);
      assert.doesNotMatch(formatTranscript(untrusted[1]!.transcript), /offering a session/);
    } finally {
      await fake.close();
    }
  });

  it('with verification skipped, a resumed session still reports the certificate as unverified', async () => {
    const expired = spec('expired', dovecot.expired, { insecureSkipVerify: true, sessionResumptionMs: 10 * MINUTE }, 'tls');
    const results = await probeTimes(2, expired);
    assert.ok(results.every((r) => r.success), formatTranscript(results[0]!.transcript));
    assert.deepEqual(resumed(results), [false, true]);
    for (const r of results) {
      assert.equal(r.facts.tls?.authorized, false);
      assert.equal(r.facts.tls?.authorizationError, 'CERT_HAS_EXPIRED');
      assert.equal(r.facts.tls?.certNotAfter, dovecot.pki.expiredNotAfter);
    }
  });
});
