/**
 * A real Prometheus (Debian's) scraping the exporter under --web.config.file, as an operator
 * would configure it: `scheme: https` with `tls_config` and `basic_auth` against one exporter,
 * `tls_config` with a client certificate against one that requires client certificates. The
 * same jobs without the credentials get 401, or fail the TLS handshake.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { makeClientCerts } from '../fixtures/client-cert.js';
import { makeTestPki } from '../fixtures/pki.js';
import { startWebDaemon, type WebDaemon } from '../helpers/web-daemon.js';
import { startPrometheus, type RunningPrometheus } from '../unit/deploy-lib.test.js';

let dir: string;
const daemons: WebDaemon[] = [];
let prometheus: RunningPrometheus | undefined;

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-web-prom-'));
  const pki = await makeTestPki(join(dir, 'pki'));
  const clients = await makeClientCerts(pki);
  const authFile = join(dir, 'web-auth.yml');
  await writeFile(
    authFile,
    `tls_server_config:\n  cert_file: ${pki.server.cert}\n  key_file: ${pki.server.key}\nbasic_auth_users:\n  prometheus: '${bcrypt.hashSync('scrape-secret', 4)}'\n`,
  );
  const mtlsFile = join(dir, 'web-mtls.yml');
  await writeFile(
    mtlsFile,
    `tls_server_config:\n  cert_file: ${pki.server.cert}\n  key_file: ${pki.server.key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.caCert}\n`,
  );
  const [auth, mtls] = await Promise.all([startWebDaemon(dir, authFile, 'auth'), startWebDaemon(dir, mtlsFile, 'mtls')]);
  daemons.push(auth, mtls);
  const job = (name: string, port: number, extra: Record<string, unknown>) => ({
    job_name: name,
    scheme: 'https',
    static_configs: [{ targets: [`127.0.0.1:${port}`] }],
    ...extra,
    tls_config: { ca_file: pki.caCert, ...(extra.tls_config as object | undefined) },
  });
  prometheus = await startPrometheus({
    global: { scrape_interval: '1s', scrape_timeout: '1s' },
    scrape_configs: [
      job('auth-ok', auth.port, { basic_auth: { username: 'prometheus', password: 'scrape-secret' } }),
      job('auth-none', auth.port, {}),
      job('auth-wrong', auth.port, { basic_auth: { username: 'prometheus', password: 'guess' } }),
      job('mtls-ok', mtls.port, { tls_config: { cert_file: clients.trusted.cert, key_file: clients.trusted.key } }),
      job('mtls-none', mtls.port, {}),
      job('mtls-rogue', mtls.port, { tls_config: { cert_file: clients.untrusted.cert, key_file: clients.untrusted.key } }),
    ],
  });
});

after(async () => {
  await prometheus?.stop();
  await Promise.all(daemons.map((d) => d.stop()));
  await rm(dir, { recursive: true, force: true });
});

test('Prometheus scrapes over TLS with basic auth or a client certificate, and is refused without', async () => {
  const p = prometheus;
  assert.ok(p);
  const targets = await p.waitFor('all six jobs scraped once', async () => {
    const { activeTargets } = (await p.api('/api/v1/targets')) as { activeTargets: Target[] };
    return activeTargets.length === 6 && activeTargets.every((t) => t.health !== 'unknown') ? activeTargets : undefined;
  });
  const byJob = Object.fromEntries(targets.map((t) => [t.labels.job, t]));
  assert.equal(byJob['auth-ok']?.health, 'up', byJob['auth-ok']?.lastError);
  assert.equal(byJob['mtls-ok']?.health, 'up', byJob['mtls-ok']?.lastError);
  assert.match(byJob['auth-none']?.lastError ?? '', /401 Unauthorized/);
  assert.match(byJob['auth-wrong']?.lastError ?? '', /401 Unauthorized/);
  // In TLS 1.3 the server checks the client's certificate after the client's Finished, so Go
  // may see the refusal only as the connection closing before its request got an answer.
  const refusedAtHandshake = /tls|certificate|connection reset|EOF|server closed idle connection/i;
  assert.equal(byJob['mtls-none']?.health, 'down');
  assert.match(byJob['mtls-none']?.lastError ?? '', refusedAtHandshake);
  assert.doesNotMatch(byJob['mtls-none']?.lastError ?? '', /401/, 'refused at the handshake, before HTTP');
  assert.equal(byJob['mtls-rogue']?.health, 'down');
  assert.match(byJob['mtls-rogue']?.lastError ?? '', refusedAtHandshake);

  // The scrapes that got in stored the exporter's series.
  const data = (await p.api(`/api/v1/query?query=${encodeURIComponent('imap_probe_interval_seconds')}`)) as {
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
  assert.deepEqual(data.result.map((s) => [s.metric.job, s.metric.target, s.value[1]]).sort(), [
    ['auth-ok', 'closed', '60'],
    ['mtls-ok', 'closed', '60'],
  ]);
  assert.match(daemons[1]?.logs() ?? '', /"msg":"TLS handshake error"/, 'the refused handshakes are logged');
});
