/**
 * --web.config.file on the real daemon, over real TLS on loopback: basic auth on every path
 * (401 with WWW-Authenticate), extra headers, client certificates (handshake refused without
 * one, or with one the CA did not sign), reload on SIGHUP and on change, a bad file at start
 * and on reload.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { makeClientCerts, type ClientCerts } from '../fixtures/client-cert.js';
import { makeTestPki, type TestPki } from '../fixtures/pki.js';
import { httpsRequest } from '../helpers/https.js';
import { runMain } from '../helpers/spawn.js';
import { startWebDaemon, type WebDaemon } from '../helpers/web-daemon.js';

let dir: string;
let pki: TestPki;
let clients: ClientCerts;
const daemons: WebDaemon[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-web-'));
  pki = await makeTestPki(join(dir, 'pki'));
  clients = await makeClientCerts(pki);
});
after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await rm(dir, { recursive: true, force: true });
});

function basicAuthConfig(users: Record<string, string>): string {
  const lines = Object.entries(users).map(([user, password]) => `  ${user}: '${bcrypt.hashSync(password, 4)}'`);
  return [
    'tls_server_config:',
    `  cert_file: ${pki.server.cert}`,
    `  key_file: ${pki.server.key}`,
    'http_server_config:',
    '  headers:',
    '    X-Frame-Options: deny',
    '    X-Content-Type-Options: nosniff',
    'basic_auth_users:',
    ...lines,
    '',
  ].join('\n');
}

describe('--web.config.file: TLS and basic auth', () => {
  let daemon: WebDaemon;
  let file: string;
  const url = (path: string) => `https://127.0.0.1:${daemon.port}${path}`;
  before(async () => {
    file = join(dir, 'web-auth.yml');
    await writeFile(file, basicAuthConfig({ prometheus: 'scrape-secret' }));
    daemon = await startWebDaemon(dir, file, 'auth');
    daemons.push(daemon);
  });

  it('every path answers 401 with WWW-Authenticate: Basic without credentials or with wrong ones', async () => {
    for (const [path, method] of [['/metrics', 'GET'], ['/probe?target=closed', 'GET'], ['/', 'GET'], ['/-/healthy', 'GET'], ['/-/reload', 'POST'], ['/nope', 'GET']] as const) {
      const anonymous = await httpsRequest(url(path), { ca: pki.caCert, method });
      assert.equal(anonymous.status, 401, path);
      assert.equal(anonymous.headers['www-authenticate'], 'Basic', path);
      assert.equal(anonymous.text, 'Unauthorized\n');
      assert.equal(anonymous.headers['x-frame-options'], 'deny', 'the headers are on a 401 too');
    }
    for (const auth of ['prometheus:wrong', 'nobody:scrape-secret', 'prometheus:']) {
      const wrong = await httpsRequest(url('/metrics'), { ca: pki.caCert, auth });
      assert.equal(wrong.status, 401, auth.split(':')[0]);
    }
  });

  it('the right credentials get /metrics over TLS, with the configured headers; the log never holds the password', async () => {
    const ok = await httpsRequest(url('/metrics'), { ca: pki.caCert, auth: 'prometheus:scrape-secret' });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^imap_probe_interval_seconds\{target="closed"\} 60$/m);
    assert.equal(ok.headers['x-frame-options'], 'deny');
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
    const again = await httpsRequest(url('/-/healthy'), { ca: pki.caCert, auth: 'prometheus:scrape-secret' });
    assert.equal(again.status, 200, 'a cached verification answers the same');
    assert.doesNotMatch(daemon.logs(), /scrape-secret/);
    assert.match(daemon.logs(), /"msg":"listening"/);
    assert.match(daemon.logs(), /"tls":true,"basic_auth":true/);
  });

  it('SIGHUP applies a new file; a bad file on reload keeps the running one', async () => {
    await writeFile(file, basicAuthConfig({ grafana: 'new-secret' }));
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog(/"msg":"web config reloaded"/);
    assert.equal((await httpsRequest(url('/metrics'), { ca: pki.caCert, auth: 'prometheus:scrape-secret' })).status, 401);
    assert.equal((await httpsRequest(url('/metrics'), { ca: pki.caCert, auth: 'grafana:new-secret' })).status, 200);

    await writeFile(file, 'basic_auth_users:\n  grafana: not-a-hash\n');
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog(/web config reload failed; keeping the running web config/);
    assert.match(daemon.logs(), /web-auth\.yml:2: basic_auth_users\.grafana: expected a bcrypt hash/);
    assert.doesNotMatch(daemon.logs(), /not-a-hash/, 'the value is not repeated');
    assert.equal((await httpsRequest(url('/metrics'), { ca: pki.caCert, auth: 'grafana:new-secret' })).status, 200);
  });

  it('a changed file is picked up without a signal', async () => {
    await writeFile(file, basicAuthConfig({ watcher: 'seen-it' }));
    await daemon.waitForLog(/"msg":"web config reloaded".*\n.*"msg":"web config reloaded"/s, 20_000);
    assert.equal((await httpsRequest(url('/metrics'), { ca: pki.caCert, auth: 'watcher:seen-it' })).status, 200);
  });
});

describe('--web.config.file: client certificates', () => {
  let daemon: WebDaemon;
  const url = () => `https://127.0.0.1:${daemon.port}/metrics`;
  before(async () => {
    const file = join(dir, 'web-mtls.yml');
    await writeFile(
      file,
      `tls_server_config:\n  cert_file: ${pki.server.cert}\n  key_file: ${pki.server.key}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.caCert}\n  min_version: TLS12\n`,
    );
    daemon = await startWebDaemon(dir, file, 'mtls');
    daemons.push(daemon);
  });

  it('a certificate the client CA signed gets in', async () => {
    const ok = await httpsRequest(url(), { ca: pki.caCert, cert: clients.trusted.cert, key: clients.trusted.key });
    assert.equal(ok.status, 200);
  });

  it('no certificate, or one the CA did not sign, fails the handshake, and the exporter logs it', async () => {
    await assert.rejects(httpsRequest(url(), { ca: pki.caCert }), /certificate required|alert|socket hang up|ECONNRESET/i);
    await assert.rejects(
      httpsRequest(url(), { ca: pki.caCert, cert: clients.untrusted.cert, key: clients.untrusted.key }),
      /unknown ca|alert|socket hang up|ECONNRESET/i,
    );
    await daemon.waitForLog(/"msg":"TLS handshake error"/);
  });
});

describe('--web.config.file: a bad file at start', () => {
  it('exits 1 before listening, naming the file, line, key and what was expected', async () => {
    const cases: [string, RegExp][] = [
      ['tls_server_config:\n  cert_file: x.crt\n  key_file: x.key\n  client_auth_type: Bogus\n', /bad\.yml:4: tls_server_config\.client_auth_type: expected one of NoClientCert, RequestClientCert/],
      ['tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n', /bad\.yml: tls_server_config\.cert_file: cannot read .*missing\.crt: no such file/],
      ['tls_server_config:\n  cert_file: x.crt\n', /bad\.yml:1: tls_server_config\.key_file: missing one of key or key_file/],
      ['http_server_config:\n  headers:\n    X-Powered-By: me\n', /bad\.yml:3: http_server_config\.headers\.X-Powered-By: this header can not be configured/],
      ['basic_auth_user:\n  a: b\n', /bad\.yml:1: basic_auth_user: unknown key \(expected one of tls_server_config, http_server_config, basic_auth_users\)/],
      ['tls_server_config:\n  cert_file: x.crt\n  key_file: x.key\n  min_version: TLS14\n', /bad\.yml:4: tls_server_config\.min_version: expected one of TLS10, TLS11, TLS12, TLS13/],
    ];
    for (const [text, expected] of cases) {
      const file = join(dir, 'bad.yml');
      await writeFile(file, text);
      const run = await runMain([`--config.file=config/imap-exporter.yaml`, '--web.listen-address=127.0.0.1:0', `--web.config.file=${file}`]);
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stdout, /cannot load the web config/);
      assert.match(run.stdout, expected);
      assert.doesNotMatch(run.stdout, /"msg":"listening"/);
    }
  });
});
