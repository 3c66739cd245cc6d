// Redaction by construction: for each auth mechanism, a server that echoes every client
// line back — in the greeting, untagged responses, the tagged NO, a BYE, continuations —
// and then every output (ProbeResult, log, status page, /transcript, /probe?debug=true,
// `check --verbose`) is grepped for every form of every secret the client sent.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { runProbe } from '../../src/probe/run-probe.js';
import type { AuthMechanism, ProbeSpec } from '../../src/probe/types.js';
import { ECHO_CRAM_CHALLENGE, ECHO_PLACES, echoImap, type EchoImap, type EchoPlace } from '../fakes/echo-imap.js';
import { startFakeImapServer, type FakeImapServer } from '../fakes/fake-imap-server.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';

const USER = 'alice';
const PASSWORD = 'Zq7-echo-secret-Pw41';
const MECHANISMS: AuthMechanism[] = ['login', 'plain', 'cram-md5', 'xoauth2'];
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * The secret forms a hostile server that knows the password puts in its greeting, computed
 * here independently of the exporter's code (a bare CRAM-MD5 digest is not among them: no
 * probe can know it before the challenge; one it computed is checked through allForms).
 */
function knownForms(): string[] {
  const digest = createHmac('md5', PASSWORD).update(ECHO_CRAM_CHALLENGE).digest('hex');
  return [
    PASSWORD,
    b64(PASSWORD),
    b64(`\0${USER}\0${PASSWORD}`),
    b64(`user=${USER}\x01auth=Bearer ${PASSWORD}\x01\x01`),
    b64(`${USER} ${digest}`),
    `${USER} ${digest}`,
  ];
}

/** The known forms plus every value the servers saw in a login exchange, raw and decoded. */
function allForms(servers: Iterable<EchoImap>): string[] {
  const forms = new Set([...knownForms(), createHmac('md5', PASSWORD).update(ECHO_CRAM_CHALLENGE).digest('hex')]);
  for (const { loginValues } of servers) {
    for (const value of loginValues) {
      if (value.length < 4) continue;
      forms.add(value);
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      if (b64(decoded) === value) forms.add(decoded);
      const cram = /^\S+ ([0-9a-f]{32})$/.exec(decoded);
      if (cram) forms.add(cram[1]!);
    }
  }
  return [...forms];
}

function assertClean(output: string, where: string, forms: string[]): void {
  for (const form of forms) {
    assert.ok(!output.includes(form), `${where} contains the secret form ${JSON.stringify(form)}:\n${output.slice(0, 4000)}`);
  }
}

const echoes = new Map<string, EchoImap>();
const servers = new Map<EchoPlace, FakeImapServer>();
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-echo-'));
  await writeFile(join(dir, 'pw'), `${PASSWORD}\n`);
  for (const place of ECHO_PLACES) {
    const echo = echoImap({ place, greetingText: place === 'greeting' ? knownForms().join(' ') : '' });
    echoes.set(place, echo);
    servers.set(place, await startFakeImapServer(echo.handler));
  }
});

after(async () => {
  await Promise.all([...servers.values()].map((server) => server.close()));
  await rm(dir, { recursive: true, force: true });
});

function spec(place: EchoPlace, auth: AuthMechanism): ProbeSpec {
  const server = servers.get(place)!;
  return {
    target: place,
    host: server.host,
    port: server.port,
    tls: 'none',
    tlsConfig: { insecureSkipVerify: false },
    timeoutMs: 3000,
    account: {
      name: auth,
      username: USER,
      auth,
      allowPlaintextAuth: true,
      mailbox: 'INBOX',
      list: [{ reference: '', pattern: '*' }],
      password: () => Promise.resolve(PASSWORD),
    },
  };
}

describe('a server echoing every client line', () => {
  for (const place of ECHO_PLACES) {
    for (const auth of MECHANISMS) {
      it(`${auth}, echoed in the ${place}: no secret in the ProbeResult or check --verbose`, async () => {
        // Twice: the second greeting carries the first connection's lines.
        for (let run = 0; run < 2; run++) {
          const result = await runProbe(spec(place, auth));
          assert.equal(result.stages.some((s) => s.stage === 'login'), true, JSON.stringify(result.stages));
          assertClean(JSON.stringify(result), `the ProbeResult (${place}, ${auth})`, allForms(echoes.values()));
        }
        let stdout = '';
        const server = servers.get(place)!;
        const code = await runCheck(
          [`${server.host}:${server.port}`, '--no-tls', '--allow-plaintext-auth', '--user', USER, '--password-env', 'ECHO_PW', '--auth', auth, '--verbose', '--timeout', '3s'],
          { stdout: (text) => (stdout += text), stderr: (text) => (stdout += text), env: { ECHO_PW: PASSWORD } },
        );
        assert.ok(code === 0 || code === 1, stdout);
        assert.match(stdout, /transcript/);
        assertClean(stdout, `check --verbose (${place}, ${auth})`, allForms(echoes.values()));
      });
    }
  }
});

describe('the daemon probing echoing servers', () => {
  let daemon: RunningDaemon;

  before(async () => {
    const targets = ECHO_PLACES.map((place) => {
      const server = servers.get(place)!;
      const accounts = MECHANISMS.map((auth) => `      - { username: ${USER}, name: ${auth}, auth: ${auth}, password_file: pw }\n`).join('');
      return `  - name: ${place}\n    host: ${server.host}\n    port: ${server.port}\n    tls: none\n    allow_plaintext_auth: true\n    accounts:\n${accounts}`;
    });
    const config = join(dir, 'exporter.yaml');
    await writeFile(config, `defaults:\n  interval: 2s\n  timeout: 1500ms\ntargets:\n${targets.join('')}`);
    daemon = await startDaemon(config, ['--log.level=debug']);
  });

  after(async () => {
    await daemon?.stop('SIGKILL');
  });

  it('no secret in the log, the status page, /transcript or /probe?debug=true', async () => {
    // Every job has run at least twice (so each greeting echoed an earlier connection).
    await daemon.waitFor('two scheduled runs of every job', async () => {
      const samples = await daemon.scrape();
      const runs = samples.filter((s) => s.name === 'imap_probes_total');
      return runs.length === ECHO_PLACES.length * MECHANISMS.length && runs.every((s) => s.value >= 2) ? true : undefined;
    });
    const outputs: [string, string][] = [['the status page', (await daemon.get('/')).text]];
    for (const place of ECHO_PLACES) {
      for (const auth of MECHANISMS) {
        outputs.push([`/transcript (${place}, ${auth})`, (await daemon.get(`/transcript?target=${place}&account=${auth}`)).text]);
        const debug = await daemon.get(`/probe?target=${place}&account=${auth}&debug=true`);
        assert.equal(debug.status, 200, debug.text);
        outputs.push([`/probe?debug=true (${place}, ${auth})`, debug.text]);
        outputs.push([`/probe (${place}, ${auth})`, (await daemon.get(`/probe?target=${place}&account=${auth}`)).text]);
      }
    }
    outputs.push(['/metrics', (await daemon.get('/metrics')).text]);
    outputs.push(['the log', daemon.logs()]);
    assert.match(daemon.logs(), /probe failed/);
    const forms = allForms(echoes.values());
    for (const [where, text] of outputs) assertClean(text, where, forms);
  });
});
