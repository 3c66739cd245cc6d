// `imap_exporter check` spawned as a process against a real Courier-IMAP: what an
// administrator sees for each cause, without --verbose.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCourier, type CourierCause, type CourierServer } from '../fixtures/courier.js';
import { runMain, type Finished } from '../helpers/spawn.js';

let courier: CourierServer;
let aliceFile: string;
let wrongFile: string;
let carolFile: string;
const WRONG = 'wrong-Password-4711';

before(async () => {
  courier = await startCourier();
  aliceFile = join(courier.dir, 'alice.password');
  wrongFile = join(courier.dir, 'wrong.password');
  await writeFile(aliceFile, `${courier.accounts.alice.password}\n`);
  await writeFile(wrongFile, `${WRONG}\n`);
  carolFile = join(courier.dir, 'carol.password');
  await writeFile(carolFile, `${courier.accounts.carol.password}\n`);
});
after(() => courier?.stop());

function check(passwordFile: string, ...extra: string[]): Promise<Finished> {
  return runMain(['check', `${courier.imap.host}:${courier.imap.port}`, '--starttls', '--user', 'alice',
    '--password-file', passwordFile, '--ca-file', courier.caFile, '--list', '*', '--list', '#shared.*', ...extra]);
}

async function checkWhileBroken(cause: CourierCause): Promise<Finished> {
  const restore = await courier.break(cause);
  try {
    return await check(aliceFile);
  } finally {
    await restore();
  }
}

describe('imap_exporter check against Courier-IMAP', () => {
  it('a healthy account: every stage ✓, the shared folder listed, exit 0', async () => {
    const run = await check(aliceFile);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    for (const stage of ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']) {
      assert.match(run.stdout, new RegExp(`✓ ${stage}\\s`), `${stage} line`);
    }
    assert.match(run.stdout, /Courier-IMAP ready\./);
    assert.ok(run.stdout.includes('Projects'), run.stdout);
    assert.ok(!run.stdout.includes(courier.accounts.alice.password));
  });

  it('authdaemond stopped: login ✗ auth_unavailable with the BYE words and a hint naming authdaemond', async () => {
    const run = await checkWhileBroken('authdaemond-stopped');
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /login ✗ auth_unavailable/);
    assert.ok(run.stdout.includes('* BYE Temporary problem, please try again later'), run.stdout);
    assert.match(run.stdout, /hint: .*authdaemond/);
  });

  it('wrong gid: the BYE words and a hint naming uid and gid', async () => {
    const run = await checkWhileBroken('wrong-gid');
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /login ✗ auth_unavailable/);
    assert.ok(run.stdout.includes("Fatal error: Account's mailbox directory is not owned by the correct uid or gid"), run.stdout);
    assert.match(run.stdout, /hint: .*\buid\b.*\bgid\b/);
  });

  it('a wrong password: login ✗ auth_failed, "NO Login failed." and the DEBUG_LOGIN hint; the password never shown', async () => {
    const run = await check(wrongFile);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /login ✗ auth_failed/);
    assert.match(run.stdout, /NO Login failed\./);
    assert.match(run.stdout, /hint: .*DEBUG_LOGIN/);
    assert.ok(!(run.stdout + run.stderr).includes(WRONG));
  });
  it('carol with --min-folders 1: list ✗ expectation_failed, the LIST in the detail, a hint on shared folders', async () => {
    const run = await runMain(['check', `${courier.imap.host}:${courier.imap.port}`, '--starttls', '--user', 'carol',
      '--password-file', carolFile, '--ca-file', courier.caFile, '--list', '#shared.*', '--min-folders', '1']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /list ✗ expectation_failed/);
    assert.ok(run.stdout.includes('LIST "" "#shared.*" returned 0 folders, expected at least 1'), run.stdout);
    assert.match(run.stdout, /hint: .*shared folders/);
  });

  it('INBOX cur/ owned by another uid with --min-messages 1: select ✗ expectation_failed', async () => {
    const restore = await courier.break('cur-wrong-owner');
    let run: Finished;
    try {
      run = await check(aliceFile, '--min-messages', '1');
    } finally {
      await restore();
    }
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /select ✗ expectation_failed/);
    assert.match(run.stdout, /INBOX/);
  });
});
