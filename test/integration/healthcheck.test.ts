/**
 * `imap_exporter healthcheck` (the image's HEALTHCHECK): it finds the exporter at the address
 * and scheme of its flags, counts 200 and 401 as alive, anything else (503, nothing listening)
 * as not. Real listeners on loopback; the flags come as they would from /proc/1/cmdline.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { flagsOf, healthTarget, runHealthcheck } from '../../src/cli/healthcheck.js';
import { closedPort } from '../fixtures/ports.js';
import { makeTestPki, type TestPki } from '../fixtures/pki.js';

let dir: string;
let pki: TestPki;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-health-'));
  pki = await makeTestPki(join(dir, 'pki'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

const quiet = { stderr: () => undefined };

describe('imap_exporter healthcheck', () => {
  it('reads the listen address and web config from a command line, in both flag spellings', () => {
    const cmdline = ['/nodejs/bin/node', '/app/dist/src/main.js', '--config.file=/etc/c.yaml', '--web.listen-address', ':9999', '--web.config.file=/etc/w.yml', ''];
    assert.deepEqual(flagsOf(cmdline), { listen: ':9999', webConfigFile: '/etc/w.yml' });
    assert.deepEqual(flagsOf([]), { listen: ':10043' });
  });

  it('asks a wildcard address on loopback', async () => {
    assert.equal((await healthTarget({ listen: ':10043' })).url, 'http://127.0.0.1:10043/-/healthy');
    assert.equal((await healthTarget({ listen: '[::]:1' })).url, 'http://[::1]:1/-/healthy');
    assert.equal((await healthTarget({ listen: '10.0.0.1:2' })).url, 'http://10.0.0.1:2/-/healthy');
  });

  it('plain HTTP: 200 healthy, 503 not, nothing listening not; it asks /-/healthy', async () => {
    let status = 200;
    const seen: string[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status).end();
    });
    const port = await listen(server);
    try {
      assert.equal(await runHealthcheck([`--web.listen-address=127.0.0.1:${port}`], quiet), 0);
      status = 503;
      assert.equal(await runHealthcheck([`--web.listen-address=127.0.0.1:${port}`], quiet), 1);
      assert.deepEqual(seen, ['/-/healthy', '/-/healthy']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    assert.equal(await runHealthcheck([`--web.listen-address=127.0.0.1:${await closedPort()}`], quiet), 1);
  });

  it('follows --web.config.file to HTTPS, and a 401 behind basic auth is alive', async () => {
    const server = createHttpsServer({ cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key) }, (_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic' }).end();
    });
    const port = await listen(server);
    const web = join(dir, 'web.yml');
    await writeFile(web, `tls_server_config:\n  cert_file: ${pki.server.cert}\n  key_file: ${pki.server.key}\n`);
    try {
      assert.equal(await runHealthcheck([`--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${web}`], quiet), 0);
      assert.equal(await runHealthcheck([`--web.listen-address=127.0.0.1:${port}`], quiet), 1, 'plain HTTP to a TLS port is not healthy');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
