// Hostile IMAP servers beyond the echo: PREAUTH, a RST in the middle of LOGIN over TLS, and
// a flood of untagged responses. Each ends in one exact outcome, with no socket left open.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { runProbe } from '../../src/probe/run-probe.js';
import type { ProbeSpec } from '../../src/probe/types.js';
import { startFakeImapServer, type FakeHandler, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { makeTestPki, type TestPki } from '../fixtures/pki.js';
import { fakeSpec } from '../helpers/fake-probe.js';

let dir: string;
let pki: TestPki;
const servers: FakeImapServer[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-hostile-'));
  pki = await makeTestPki(dir);
});
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await rm(dir, { recursive: true, force: true });
});

async function serve(handler: FakeHandler, tls = false): Promise<FakeImapServer> {
  const server = await startFakeImapServer(handler, tls ? { tls: pki.server } : {});
  servers.push(server);
  return server;
}

function spec(server: FakeImapServer, overrides: Partial<ProbeSpec> = {}): ProbeSpec {
  return fakeSpec(server, { tlsConfig: { insecureSkipVerify: false, caFile: pki.caCert }, timeoutMs: 3000, ...overrides });
}

/** Greets with PREAUTH and answers SELECT, LIST and LOGOUT; LOGIN is BAD, as in the authenticated state. */
const preauth: FakeHandler = async (conn) => {
  conn.write('* PREAUTH [CAPABILITY IMAP4rev1] alice is already logged in\r\n');
  for (;;) {
    const [tag, verb = ''] = (await conn.readLine()).split(' ');
    switch (verb.toUpperCase()) {
      case 'SELECT':
        conn.write(`* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] ok\r\n${tag} OK [READ-WRITE] done\r\n`);
        break;
      case 'LIST':
        conn.write(`* LIST () "." INBOX\r\n${tag} OK done\r\n`);
        break;
      case 'LOGOUT':
        conn.write(`* BYE bye\r\n${tag} OK done\r\n`);
        return;
      default:
        conn.write(`${tag} BAD not in the authenticated state\r\n`);
    }
  }
};

describe('hostile servers', () => {
  it('PREAUTH: login is skipped (passes, with a note) and reported as PREAUTH', async () => {
    const server = await serve(preauth);
    const result = await runProbe(spec(server));
    assert.equal(result.success, true, JSON.stringify(result.failure));
    assert.deepEqual(result.stages.map((s) => s.stage), ['connect', 'greeting', 'login', 'select', 'list', 'logout']);
    assert.equal(result.facts.preauth, true);
    assert.ok(!server.received.some((line) => /LOGIN/i.test(line)), 'no LOGIN was sent');
    assert.ok(result.transcript.some((e) => e.text === 'login skipped: the server greeted with PREAUTH (already authenticated)'));
    let stdout = '';
    const io = { stdout: (text: string) => (stdout += text), stderr: (text: string) => (stdout += text), env: { PW: 'x' } };
    const code = await runCheck([`${server.host}:${server.port}`, '--no-tls', '--user', 'alice', '--password-env', 'PW', '--allow-plaintext-auth'], io);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /greeting .* \* PREAUTH alice is already logged in/);
    assert.match(stdout, /login .* skipped: the server sent PREAUTH \(already authenticated\)/);
  });

  it('a RST in the middle of LOGIN over implicit TLS: a login failure, the socket gone', async () => {
    const server = await serve(async (conn) => {
      conn.write('* OK [CAPABILITY IMAP4rev1] ready\r\n');
      await conn.readLine();
      conn.reset();
    }, true);
    const result = await runProbe(spec(server, { tls: 'tls' }));
    assert.equal(result.failure?.stage, 'login');
    assert.equal(result.failure?.reason, 'auth_unavailable');
    assert.match(result.failure?.detail ?? '', /ECONNRESET/);
    await server.waitForNoOpenConnections(2000);
  });

  it('a flood of untagged responses: protocol_error at the response limit, not a hang or a crash', async () => {
    const server = await serve(async (conn) => {
      conn.write('* OK ready\r\n');
      await conn.readLine(); // CAPABILITY
      const chunk = '* OK flood\r\n'.repeat(1000);
      while (!conn.isClosed) {
        conn.write(chunk);
        await conn.waitForDrain();
        // Yields to the event loop: once the client is gone the writes are no-ops and would spin.
        await conn.delay(1);
      }
    });
    const result = await runProbe(spec(server, { account: undefined }));
    assert.equal(result.failure?.stage, 'greeting');
    assert.equal(result.failure?.reason, 'protocol_error');
    assert.match(result.failure?.detail ?? '', /more than 10000 responses to CAPABILITY/);
    await server.waitForNoOpenConnections(2000);
  });
});
