/**
 * One probe against a fresh scripted fake IMAP server, with the checks every such test
 * shares: within the deadline, no connection left open, no broken script.
 */
import assert from 'node:assert/strict';
import { runProbe } from '../../src/probe/run-probe.js';
import { formatTranscript } from '../../src/probe/transcript.js';
import type { AccountSpec, ProbeResult, ProbeSpec } from '../../src/probe/types.js';
import {
  minimalImap,
  startFakeImapServer,
  type FakeHandler,
  type FakeImapServer,
  type FakeImapServerOptions,
  type MinimalImapOptions,
} from '../fakes/fake-imap-server.js';

export const PASSWORD = 'S3cret-Pa55"word\\';
export const USERS = { users: { alice: PASSWORD } };
export const imap = (options: MinimalImapOptions = {}): FakeHandler => minimalImap({ ...USERS, ...options });
// Margin over the deadline for the probe to notice and clean up; generous for a loaded 2-core CI box.
const DEADLINE_MARGIN_S = 1.5;

export function account(overrides: Partial<AccountSpec> = {}): AccountSpec {
  return {
    name: 'alice',
    username: 'alice',
    auth: 'login',
    allowPlaintextAuth: true,
    mailbox: 'INBOX',
    list: [{ reference: '', pattern: '*' }],
    password: () => Promise.resolve(PASSWORD),
    ...overrides,
  };
}

export function fakeSpec(server: { host: string; port: number }, overrides: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    target: 'fake',
    host: server.host,
    port: server.port,
    tls: 'none',
    tlsConfig: { insecureSkipVerify: false },
    timeoutMs: 2000,
    account: account(),
    ...overrides,
  };
}

/** Runs one probe against a fresh fake server and checks the cleanup every test shares. */
export async function probeAgainst(
  handler: FakeHandler,
  overrides: Partial<ProbeSpec> = {},
  serverOptions: FakeImapServerOptions = {},
): Promise<{ result: ProbeResult; server: FakeImapServer }> {
  const server = await startFakeImapServer(handler, serverOptions);
  try {
    const probeSpec = fakeSpec(server, overrides);
    const result = await runProbe(probeSpec);
    assert.ok(
      result.durationSeconds <= probeSpec.timeoutMs / 1000 + DEADLINE_MARGIN_S,
      `probe took ${result.durationSeconds}s with a ${probeSpec.timeoutMs}ms deadline`,
    );
    await server.waitForNoOpenConnections(2000);
    assert.deepEqual(server.handlerErrors, []);
    return { result, server };
  } finally {
    await server.close();
  }
}

export function assertFailed(result: ProbeResult, stage: string, reason: string): void {
  assert.equal(result.success, false, formatTranscript(result.transcript));
  assert.deepEqual([result.failure?.stage, result.failure?.reason], [stage, reason], formatTranscript(result.transcript));
  assert.equal(result.stages.at(-1)?.stage, stage);
  assert.equal(result.stages.at(-1)?.success, false);
  assert.equal(result.stages.filter((s) => !s.success).length, 1);
  assert.ok(result.failure?.hint && result.failure.hint.length > 10);
}

export function assertNoPassword(result: ProbeResult): void {
  const everything = JSON.stringify(result);
  assert.ok(!everything.includes(PASSWORD), 'password leaked into the result');
  assert.ok(!everything.includes(JSON.stringify(PASSWORD).slice(1, -1)), 'escaped password leaked into the result');
}
