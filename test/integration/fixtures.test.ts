/**
 * Proves the shared test fixtures with raw sockets (not the engine under test): the PKI,
 * the real Dovecot and what it answers, and the fake IMAP server's scripts.
 */
import assert from 'node:assert/strict';
import { createHmac, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot.js';
import { processesWith } from '../helpers/processes.js';
import { makeTestPki, type TestPki } from '../fixtures/pki.js';
import { connectRaw, parseListLine, type RawImapClient } from '../fixtures/raw-imap.js';
import {
  badTo, byeGreeting, disconnectDuringLogin, endlessLine, hugeLiteral, minimalImap, silent,
  startFakeImapServer, tooManyResponses, trickle, type FakeHandler, type FakeImapServer,
} from '../fakes/fake-imap-server.js';

const nowSeconds = (): number => Date.now() / 1000;
const tagged = (lines: string[]): string => lines.at(-1)!;

function tlsError(host: string, port: number, ca: Buffer): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ca });
    socket.once('secureConnect', () => {
      socket.destroy();
      reject(new Error('handshake unexpectedly verified'));
    });
    socket.once('error', resolve);
  });
}

function peerCertificate(host: string, port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host, port, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.once('error', reject);
  });
}

async function login(client: RawImapClient, user: string, password: string): Promise<void> {
  assert.match(tagged(await client.command(`LOGIN ${user} ${password}`)), /^\S+ OK/);
}

describe('real Dovecot fixture', () => {
  let dovecot: DovecotServer;
  let ca: Buffer;
  before(async () => {
    dovecot = await startDovecot();
    ca = await readFile(dovecot.caFile);
  });
  after(() => dovecot?.stop());

  it('greets on imap with STARTTLS and plaintext AUTH offered', async () => {
    const client = await connectRaw(dovecot.imap.host, dovecot.imap.port);
    const greeting = await client.readLine();
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS.*AUTH=PLAIN.*\] imap_exporter test Dovecot ready\.$/);
    assert.doesNotMatch(greeting, /LOGINDISABLED/);
    client.close();
  });

  it('accepts alice and answers a wrong password with NO at once', async () => {
    // The read bound is below Dovecot's default 2 s auth_failure_delay.
    const client = await connectRaw(dovecot.imap.host, dovecot.imap.port, { timeoutMs: 1500 });
    await client.readLine();
    assert.match(tagged(await client.command(`LOGIN alice wrong-${dovecot.accounts.alice.password}`)), /^\S+ NO \[AUTHENTICATIONFAILED\]/);
    await login(client, 'alice', dovecot.accounts.alice.password);
    await client.command('LOGOUT');
    client.close();
  });

  it('SELECT INBOX reports the expected EXISTS, RECENT and UIDVALIDITY', async () => {
    const client = await connectRaw(dovecot.imap.host, dovecot.imap.port);
    await client.readLine();
    await login(client, 'alice', dovecot.accounts.alice.password);
    const select = await client.command('SELECT INBOX');
    assert.ok(select.includes(`* ${dovecot.expected.inboxMessages} EXISTS`), select.join('\n'));
    assert.ok(select.includes(`* ${dovecot.expected.inboxRecent} RECENT`), select.join('\n'));
    assert.ok(select.includes(`* OK [UIDVALIDITY ${dovecot.expected.inboxUidValidity}] UIDs valid`), select.join('\n'));
    assert.match(tagged(select), /OK \[READ-WRITE\]/);
    for (const name of [...dovecot.expected.selectable, 'Archive']) {
      const wire = name === dovecot.expected.nonAsciiFolder.name ? dovecot.expected.nonAsciiFolder.wire : name;
      const expectOk = name !== 'Archive';
      assert.match(tagged(await client.command(`SELECT "${wire}"`)), expectOk ? /^\S+ OK/ : /^\S+ NO/, name);
    }
    await client.command('LOGOUT');
    client.close();
  });

  it('LIST "" "*" and LIST "" "#shared.*" return the expected folders and flags', async () => {
    const client = await connectRaw(dovecot.imap.host, dovecot.imap.port);
    await client.readLine();
    await login(client, 'alice', dovecot.accounts.alice.password);
    const all = (await client.command('LIST "" "*"')).map(parseListLine).filter((e) => e !== undefined);
    assert.deepEqual(all.map((e) => e.name).sort(), dovecot.expected.listAll);
    for (const entry of all) {
      assert.equal(entry.delimiter, '.');
      const always = dovecot.expected.listFlags[entry.name]!;
      assert.deepEqual(always.filter((flag) => !entry.flags.includes(flag)), [], entry.name);
      const extra = entry.flags.filter((flag) => !always.includes(flag));
      assert.ok(extra.every((flag) => flag === '\\Marked' || flag === '\\UnMarked'), `${entry.name}: ${entry.flags.join(' ')}`);
    }
    const shared = (await client.command('LIST "" "#shared.*"')).map(parseListLine).filter((e) => e !== undefined);
    assert.deepEqual(shared.map((e) => e.name).sort(), dovecot.expected.listShared);
    await client.command('LOGOUT');
    client.close();
  });

  it('AUTHENTICATE PLAIN and CRAM-MD5 work (the nodelay passdb must not get in their way)', async () => {
    const { alice } = dovecot.accounts;
    const client = await connectRaw(dovecot.imap.host, dovecot.imap.port, { timeoutMs: 1500 });
    await client.readLine();
    client.write('p1 AUTHENTICATE CRAM-MD5\r\n');
    const challenge = Buffer.from((await client.readLine()).slice(2), 'base64').toString();
    const digest = createHmac('md5', alice.password).update(challenge).digest('hex');
    client.write(`${Buffer.from(`alice ${digest}`).toString('base64')}\r\n`);
    assert.match(await client.readLine(), /^p1 OK/);
    client.close();

    const plain = await connectRaw(dovecot.imap.host, dovecot.imap.port, { timeoutMs: 1500 });
    await plain.readLine();
    const wrong = Buffer.from('\0alice\0nope').toString('base64');
    assert.match(tagged(await plain.command(`AUTHENTICATE PLAIN ${wrong}`)), /^\S+ NO \[AUTHENTICATIONFAILED\]/);
    const right = Buffer.from(`\0alice\0${alice.password}`).toString('base64');
    assert.match(tagged(await plain.command(`AUTHENTICATE PLAIN ${right}`)), /^\S+ OK/);
    plain.close();
  });

  it('STARTTLS on imap verifies with the CA, drops STARTTLS from CAPABILITY and allows LOGIN', async () => {
    const client = await connectRaw(dovecot.imap.host, dovecot.imap.port);
    await client.readLine();
    assert.match(tagged(await client.command('STARTTLS')), /^\S+ OK/);
    const secure = await client.startTls({ ca });
    assert.equal(secure.authorized, true);
    const caps = await client.command('CAPABILITY');
    assert.doesNotMatch(caps[0]!, /STARTTLS/);
    await login(client, 'bob', dovecot.accounts.bob.password);
    assert.ok((await client.command('SELECT INBOX')).includes('* 0 EXISTS'));
    client.close();
  });

  it('127.0.0.2 advertises LOGINDISABLED until STARTTLS', async () => {
    const { host, port } = dovecot.loginDisabled;
    const client = await connectRaw(host, port);
    const greeting = await client.readLine();
    assert.match(greeting, /LOGINDISABLED/);
    assert.doesNotMatch(greeting, /AUTH=PLAIN/);
    assert.match(tagged(await client.command('LOGIN alice x')), /^\S+ NO \[PRIVACYREQUIRED\]/);
    await client.command('STARTTLS');
    await client.startTls({ ca });
    assert.doesNotMatch((await client.command('CAPABILITY'))[0]!, /LOGINDISABLED/);
    await login(client, 'alice', dovecot.accounts.alice.password);
    client.close();
  });

  it('imaps verifies with the CA; the expired listener fails with CERT_HAS_EXPIRED', async () => {
    const client = await connectRaw(dovecot.imaps.host, dovecot.imaps.port, { tls: { ca } });
    assert.match(await client.readLine(), /^\* OK /);
    client.close();
    const valid = await peerCertificate(dovecot.imaps.host, dovecot.imaps.port);
    assert.equal(Date.parse(valid.validTo) / 1000, dovecot.pki.serverNotAfter);

    const error = await tlsError(dovecot.expired.host, dovecot.expired.port, ca);
    assert.equal(error.code, 'CERT_HAS_EXPIRED');
    const expired = await peerCertificate(dovecot.expired.host, dovecot.expired.port);
    assert.equal(Date.parse(expired.validTo) / 1000, dovecot.pki.expiredNotAfter);
    assert.ok(dovecot.pki.expiredNotAfter < nowSeconds());
  });

  it('keeps passwords out of its own log', async () => {
    const log = await dovecot.readLog();
    assert.match(log, /Login: user=<alice>/);
    assert.ok(!log.includes(dovecot.accounts.alice.password));
  });

  it('runs a second instance beside the first and cleans up on stop', async () => {
    const second = await startDovecot({ pki: dovecot.pki });
    assert.notEqual(second.imap.port, dovecot.imap.port);
    assert.notEqual(second.accounts.alice.password, dovecot.accounts.alice.password);
    const client = await connectRaw(second.imap.host, second.imap.port);
    assert.match(await client.readLine(), /^\* OK /);
    client.close();
    await second.stop();
    await assert.rejects(stat(second.dir), { code: 'ENOENT' });
    // Not "the port refuses" (test/helpers/processes.ts says why): no process of it is left.
    assert.deepEqual(await processesWith('cmdline', second.confFile), []);
  });
});

describe('fake IMAP server', () => {
  let pki: TestPki;
  let ca: Buffer;
  const servers: FakeImapServer[] = [];
  const start = async (handler: FakeHandler, tls?: boolean): Promise<FakeImapServer> => {
    const server = await startFakeImapServer(handler, tls ? { tls: pki.server } : {});
    servers.push(server);
    return server;
  };
  before(async () => {
    pki = await makeTestPki(await mkdtemp(join(tmpdir(), 'imapx-pki-')));
    ca = await readFile(pki.caCert);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  it('minimalImap speaks implicit TLS, records what the client sent and ends with LOGOUT', async () => {
    const server = await start(minimalImap({ list: { '*': ['* LIST (\\Noselect \\HasChildren) "." "#shared.postmaster"'] } }), true);
    const client = await connectRaw(server.host, server.port, { tls: { ca } });
    assert.match(await client.readLine(), /^\* OK \[CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=CRAM-MD5\]/);
    await login(client, 'alice', 'secret');
    assert.ok((await client.command('SELECT INBOX')).includes('* 3 EXISTS'));
    const list = await client.command('LIST "" "*"');
    assert.deepEqual(parseListLine(list[0]!), { flags: ['\\Noselect', '\\HasChildren'], delimiter: '.', name: '#shared.postmaster' });
    assert.deepEqual(await client.command('LOGOUT'), ['* BYE Logging out', 'r4 OK Logout completed.']);
    client.close();
    await server.waitForNoOpenConnections(2000);
    assert.deepEqual(server.received, ['r1 LOGIN alice secret', 'r2 SELECT INBOX', 'r3 LIST "" "*"', 'r4 LOGOUT']);
    assert.deepEqual(server.handlerErrors, []);
  });

  it('minimalImap does STARTTLS, AUTHENTICATE PLAIN (with and without SASL-IR) and CRAM-MD5', async () => {
    const server = await start(minimalImap({ tls: pki.server, users: { bob: 'pw' } }));
    const client = await connectRaw(server.host, server.port);
    assert.match(await client.readLine(), /STARTTLS/);
    await client.command('STARTTLS');
    assert.equal((await client.startTls({ ca })).authorized, true);
    assert.doesNotMatch((await client.command('CAPABILITY'))[0]!, /STARTTLS/);
    const plain = Buffer.from('\0bob\0pw').toString('base64');
    assert.match(tagged(await client.command(`AUTHENTICATE PLAIN ${plain}`)), /^\S+ OK/);
    client.close();

    const second = await connectRaw(server.host, server.port);
    await second.readLine();
    second.write('c1 AUTHENTICATE PLAIN\r\n');
    assert.equal(await second.readLine(), '+ ');
    second.write(`${Buffer.from('\0bob\0wrong').toString('base64')}\r\n`);
    assert.match(await second.readLine(), /^c1 NO \[AUTHENTICATIONFAILED\]/);
    second.write('c2 AUTHENTICATE CRAM-MD5\r\n');
    const challenge = Buffer.from((await second.readLine()).slice(2), 'base64').toString();
    const digest = createHmac('md5', 'pw').update(challenge).digest('hex');
    second.write(`${Buffer.from(`bob ${digest}`).toString('base64')}\r\n`);
    assert.match(await second.readLine(), /^c2 OK/);
    second.close();
    await server.waitForNoOpenConnections(2000);
  });

  it('silent sends nothing; close() destroys its open connections', async () => {
    const server = await startFakeImapServer(silent());
    const client = await connectRaw(server.host, server.port, { timeoutMs: 200 });
    await assert.rejects(client.readLine(), /no data/);
    assert.equal(server.openConnections(), 1);
    const clientClosed = new Promise((resolve) => client.socket.once('close', resolve));
    await server.close();
    await clientClosed;
    assert.equal(server.openConnections(), 0);
  });

  it('byeGreeting refuses and closes; garbage-like faults come from the scripts', async () => {
    const bye = await start(byeGreeting());
    const client = await connectRaw(bye.host, bye.port);
    assert.equal(await client.readLine(), '* BYE Too many connections');
    await assert.rejects(client.readLine(), /closed/);
    await bye.waitForNoOpenConnections(2000);
  });

  it('endlessLine never sends CRLF and stops when the client goes away', async () => {
    const server = await start(endlessLine());
    const socket = netConnect({ host: server.host, port: server.port });
    let received = 0;
    let sawCrlf = false;
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        sawCrlf ||= chunk.includes('\r\n');
        if (received > 256 * 1024) resolve();
      });
    });
    socket.destroy();
    assert.equal(sawCrlf, false);
    await server.waitForNoOpenConnections(2000);
    assert.deepEqual(server.handlerErrors, []);
  });

  it('hugeLiteral, badTo, tooManyResponses and disconnectDuringLogin fail only their command', async () => {
    const huge = await start(hugeLiteral(10_000_000));
    let client = await connectRaw(huge.host, huge.port);
    await client.readLine();
    await login(client, 'alice', 'secret');
    client.write('h1 LIST "" "*"\r\n');
    assert.equal(await client.readLine(), '* LIST () "." {10000000}');
    client.close();
    await huge.waitForNoOpenConnections(2000);

    const bad = await start(badTo('select'));
    client = await connectRaw(bad.host, bad.port);
    await client.readLine();
    await login(client, 'alice', 'secret');
    assert.match(tagged(await client.command('SELECT INBOX')), /^\S+ BAD /);
    client.close();

    const many = await start(tooManyResponses(5000));
    client = await connectRaw(many.host, many.port);
    await client.readLine();
    await login(client, 'alice', 'secret');
    assert.equal((await client.command('LIST "" "*"')).length, 5001);
    client.close();

    const drop = await start(disconnectDuringLogin());
    client = await connectRaw(drop.host, drop.port);
    await client.readLine();
    await assert.rejects(client.command('LOGIN alice secret'), /closed/);
    await drop.waitForNoOpenConnections(2000);
  });

  it('trickle delivers the greeting a byte at a time', async () => {
    const server = await start(trickle('* OK slow\r\n', 500));
    const client = await connectRaw(server.host, server.port);
    assert.equal(await client.readLine(), '* OK slow');
    client.close();
    await server.waitForNoOpenConnections(2000);
  });

  it('serves the self-signed and wrong-host certificates for certificate failures', async () => {
    const selfSigned = await startFakeImapServer(minimalImap(), { tls: pki.selfSigned });
    servers.push(selfSigned);
    assert.equal((await tlsError(selfSigned.host, selfSigned.port, ca)).code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    const wrongHost = await startFakeImapServer(minimalImap(), { tls: pki.wrongHost });
    servers.push(wrongHost);
    assert.equal((await tlsError(wrongHost.host, wrongHost.port, ca)).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.deepEqual(selfSigned.handlerErrors, []);
  });
});

