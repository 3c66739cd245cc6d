import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { BasicAuthVerifier, parseBasicAuth } from '../../src/http/basic-auth.js';
import { parseWebConfig } from '../../src/http/web-config.js';
import { clientCertPolicy } from '../../src/http/web-config-load.js';

const HASH = bcrypt.hashSync('right', 4);

describe('web config file', () => {
  it('reads exporter-toolkit\'s format, with its defaults', () => {
    const config = parseWebConfig(
      'web.yml',
      [
        'tls_server_config:',
        '  cert_file: server.crt',
        '  key_file: server.key',
        '  client_auth_type: RequireAndVerifyClientCert',
        '  client_ca_file: ca.crt',
        '  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]',
        '  curve_preferences: [X25519, CurveP256]',
        'http_server_config:',
        '  http2: false',
        '  headers:',
        '    Strict-Transport-Security: max-age=31536000',
        `basic_auth_users:`,
        `  prometheus: '${HASH}'`,
        '',
      ].join('\n'),
    );
    assert.equal(config.tls_server_config?.min_version, 'TLS12');
    assert.equal(config.tls_server_config?.max_version, 'TLS13');
    assert.equal(config.tls_server_config?.prefer_server_cipher_suites, true);
    assert.deepEqual(config.basic_auth_users, { prometheus: HASH });
    assert.deepEqual(parseWebConfig('empty.yml', ''), {});
  });

  it('the shipped example parses', () => {
    const config = parseWebConfig('config/web-config.example.yml', readFileSync('config/web-config.example.yml', 'utf8'));
    assert.equal(config.tls_server_config?.cert_file, '/etc/imap_exporter/tls/server.crt');
    assert.deepEqual(Object.keys(config.basic_auth_users ?? {}), ['prometheus']);
  });

  it('every problem names the file, the line, the key and what was expected, never the secret', () => {
    const cases: [string, string][] = [
      ['tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n', 'w.yml:1: tls_server_config.client_auth_type: client CA\'s have been configured without a client_auth_type (use RequireAndVerifyClientCert)'],
      ['tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n', 'w.yml:1: tls_server_config.client_ca_file: client_auth_type RequireAndVerifyClientCert needs client_ca_file or client_ca'],
      ['tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n', 'w.yml:4: tls_server_config.min_version: min_version TLS13 is above max_version TLS12'],
      ['tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [RC4]\n', 'w.yml:4: tls_server_config.cipher_suites[0]: expected one of TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256'],
      ['http_server_config:\n  headers:\n    X-Frame-Options: allow\n', 'w.yml:3: http_server_config.headers.X-Frame-Options: expected one of deny, sameorigin'],
      ['basic_auth_users:\n  alice: hunter2\n', 'w.yml:2: basic_auth_users.alice: expected a bcrypt hash ($2y$10$…, e.g. from htpasswd -nBC 10 "" | tr -d \':\\n\')'],
      ['basic_auth_users: [alice]\n', 'w.yml:1: basic_auth_users: expected a mapping, got a list'],
      ['tls_server_config:\n  client_allowed_sans: [x]\n', 'w.yml:1: tls_server_config: TLS settings without cert_file and key_file (TLS is off)'],
      ['- a\n', 'w.yml:1: expected a mapping of tls_server_config, http_server_config, basic_auth_users'],
      ['rate_limit:\n  burst: 1\n', 'w.yml:1: rate_limit: unknown key (expected one of tls_server_config, http_server_config, basic_auth_users)'],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseWebConfig('w.yml', text), (error: Error) => {
        assert.equal(error.message, message);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
    }
  });

  it('client_auth_type means what crypto/tls says', () => {
    assert.equal(clientCertPolicy('NoClientCert').request, false);
    assert.deepEqual(clientCertPolicy('RequestClientCert'), { request: true, requireVerified: false, requirePresent: false, rejectUnverified: false });
    assert.equal(clientCertPolicy('RequireAnyClientCert').requirePresent, true);
    assert.equal(clientCertPolicy('RequireAnyClientCert').rejectUnverified, false);
    assert.equal(clientCertPolicy('VerifyClientCertIfGiven').requirePresent, false);
    assert.equal(clientCertPolicy('VerifyClientCertIfGiven').rejectUnverified, true);
    assert.equal(clientCertPolicy('RequireAndVerifyClientCert').requireVerified, true);
  });
});

describe('basic auth', () => {
  it('parses the Authorization header', () => {
    const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.deepEqual(parseBasicAuth(header('alice:pa:ss')), { user: 'alice', password: 'pa:ss' });
    assert.deepEqual(parseBasicAuth(header('alice:')), { user: 'alice', password: '' });
    assert.equal(parseBasicAuth(header('no-colon')), undefined);
    assert.equal(parseBasicAuth('Bearer x'), undefined);
    assert.equal(parseBasicAuth(undefined), undefined);
  });

  it('checks bcrypt once per distinct credential, unknown users against a dummy hash', async () => {
    const calls: string[] = [];
    const verifier = new BasicAuthVerifier(async (password, hash) => {
      calls.push(hash);
      return bcrypt.compare(password, hash);
    });
    const users = new Map([['alice', HASH]]);
    assert.equal(await verifier.verify(users, { user: 'alice', password: 'right' }), true);
    assert.equal(await verifier.verify(users, { user: 'alice', password: 'right' }), true);
    assert.equal(calls.length, 1, 'the second scrape is served from the cache');
    assert.equal(await verifier.verify(users, { user: 'alice', password: 'wrong' }), false);
    assert.equal(await verifier.verify(users, { user: 'alice', password: 'wrong' }), false);
    assert.equal(calls.length, 2);
    assert.equal(await verifier.verify(users, { user: 'mallory', password: 'right' }), false);
    assert.equal(calls.length, 3);
    assert.notEqual(calls[2], HASH, 'an unknown user still costs one bcrypt, against the dummy hash');
    // A new hash for the same user (a reload) is a new cache entry.
    const rotated = new Map([['alice', bcrypt.hashSync('next', 4)]]);
    assert.equal(await verifier.verify(rotated, { user: 'alice', password: 'right' }), false);
    assert.equal(await verifier.verify(rotated, { user: 'alice', password: 'next' }), true);
  });

  it('the cache stays bounded under a stream of guesses', async () => {
    let calls = 0;
    const verifier = new BasicAuthVerifier(async () => {
      calls += 1;
      return false;
    });
    const users = new Map([['alice', HASH]]);
    for (let i = 0; i < 150; i++) await verifier.verify(users, { user: 'alice', password: `guess-${i}` });
    calls = 0;
    await verifier.verify(users, { user: 'alice', password: 'guess-0' });
    assert.equal(calls, 1, 'the oldest guesses were evicted');
    await verifier.verify(users, { user: 'alice', password: 'guess-149' });
    assert.equal(calls, 1, 'the newest are kept');
  });
});
