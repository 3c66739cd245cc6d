import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect, createServer, TLSSocket, type PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import { checkIdentity, peerLeaf, skipPeerCertificateObjects } from '../../src/probe/tls-identity.js';
import { makeTestPki, type TestPki } from '../fixtures/pki.js';

const execFileAsync = promisify(execFile);

let dir: string;
let pki: TestPki;
const certs = new Map<string, X509Certificate>();

/** A self-signed certificate with this subject and, unless '', these subjectAltNames. */
async function selfSigned(name: string, subject: string, altNames: string): Promise<void> {
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-days', '30', '-subj', subject];
  if (altNames !== '') args.push('-addext', `subjectAltName=${altNames}`);
  await execFileAsync('openssl', args);
  certs.set(name, new X509Certificate(await readFile(join(dir, `${name}.crt`))));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imapx-tls-identity-'));
  pki = await makeTestPki(join(dir, 'pki'));
  for (const [name, file] of [['server', pki.server.cert], ['wrong-host', pki.wrongHost.cert], ['ca (CN only)', pki.caCert]] as const) {
    certs.set(name, new X509Certificate(await readFile(file)));
  }
  await selfSigned('cn-only', '/O=Example/CN=mail.example.com', '');
  await selfSigned('two-cns', '/CN=a.example.com/CN=b.example.com', '');
  await selfSigned('wildcard', '/CN=ignored.example.org', 'DNS:*.example.org,DNS:imap.example.net,IP:192.0.2.7,IP:2001:db8::7');
  await selfSigned('email-only', '/CN=mail.example.com', 'email:postmaster@example.com');
});

after(() => rm(dir, { recursive: true, force: true }));

const HOSTS = [
  'localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '127.0.0.2', '::1', '0:0:0:0:0:0:0:1', 'wrong.example',
  'a.wrong.example', 'mail.example.com', 'a.example.com', 'b.example.com', 'c.example.com', 'imap.example.org',
  'a.b.example.org', 'example.org', 'imap.example.net', '192.0.2.7', '2001:db8::7', 'imap_exporter test CA',
];

function outcome(error: Error | undefined): string {
  return error === undefined ? 'ok' : `${(error as NodeJS.ErrnoException).code}: ${error.message}`;
}

describe('host name check from the X509Certificate handle', () => {
  it('decides, and words its errors, exactly as checkServerIdentity over getPeerCertificate’s object', () => {
    for (const [name, cert] of certs) {
      const legacy = cert.toLegacyObject() as PeerCertificate;
      for (const host of HOSTS) {
        assert.equal(outcome(checkIdentity(host, cert)), outcome(checkServerIdentity(host, legacy)), `${name} as ${host}`);
      }
    }
  });

  it('treats a missing certificate as Node does (no DNS name)', () => {
    assert.equal(outcome(checkIdentity('localhost', undefined)), outcome(checkServerIdentity('localhost', {} as PeerCertificate)));
  });
});

describe('a handshake without getPeerCertificate objects', () => {
  async function handshake(certName: 'server' | 'wrongHost', host: string): Promise<TLSSocket & { leafOf: () => X509Certificate | undefined }> {
    const { key, cert } = pki[certName];
    const server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (s) => s.on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const socket: TLSSocket = connect({
      host, port, ca: await readFile(pki.caCert), rejectUnauthorized: false,
      checkServerIdentity: (name): Error | undefined => checkIdentity(name, leafOf()),
    });
    const leafOf = peerLeaf(socket);
    const restore = skipPeerCertificateObjects(socket);
    await once(socket, 'secureConnect');
    restore();
    after(() => socket.destroy());
    return Object.assign(socket, { leafOf });
  }

  it('is authorized for a name the certificate holds', async () => {
    const socket = await handshake('server', '127.0.0.1');
    assert.equal(socket.authorized, true);
    assert.equal(socket.authorizationError, null);
    assert.equal(socket.leafOf()?.subject, 'CN=localhost', 'the leaf the name was checked on is still there for the facts');
  });

  it('is not authorized, with Node’s code, for one it does not', async () => {
    const socket = await handshake('wrongHost', '127.0.0.1');
    assert.equal(socket.authorized, false);
    assert.equal(socket.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('gives the socket its getPeerCertificate back afterwards', async () => {
    const socket = await handshake('server', '127.0.0.1');
    assert.equal(Object.hasOwn(socket, 'getPeerCertificate'), false);
    assert.equal(socket.getPeerCertificate, TLSSocket.prototype.getPeerCertificate);
  });
});
