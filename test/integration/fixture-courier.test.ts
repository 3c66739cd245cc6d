/**
 * Proves the real Courier-IMAP fixture with raw sockets (not the engine under test): what
 * it serves, and what each cause it can break looks like on the wire. Fails (never skips)
 * when Courier is not unpacked: .ci/run runs test/fixtures/courier-install.sh.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startCourier, type CourierCause, type CourierServer } from '../fixtures/courier.js';
import { DIR_MARKER } from '../fixtures/courier-ns.js';
import { connectRaw, parseListLine, type RawImapClient } from '../fixtures/raw-imap.js';
import { processesWith } from '../helpers/processes.js';

const tagged = (lines: string[]): string => lines.at(-1)!;

let courier: CourierServer;
let ca: Buffer;
before(async () => {
  courier = await startCourier();
  ca = await readFile(courier.caFile);
});
after(() => courier?.stop());

async function session(user: 'alice' | 'bob' | 'carol' = 'alice'): Promise<RawImapClient> {
  const client = await connectRaw(courier.imap.host, courier.imap.port);
  await client.readLine();
  const { username, password } = courier.accounts[user];
  assert.match(tagged(await client.command(`LOGIN ${username} ${password}`)), /^\S+ OK LOGIN Ok\./);
  return client;
}

/** What alice's LOGIN gets back while `cause` is broken: every line until the server closes. */
async function loginWhileBroken(cause: CourierCause): Promise<string[]> {
  const restore = await courier.break(cause);
  try {
    const client = await connectRaw(courier.imap.host, courier.imap.port);
    await client.readLine();
    client.write(`b1 LOGIN alice ${courier.accounts.alice.password}\r\n`);
    const lines: string[] = [];
    await assert.rejects(async () => {
      for (;;) lines.push(await client.readLine());
    }, /closed/);
    client.close();
    return lines;
  } finally {
    await restore();
  }
}

describe('real Courier-IMAP fixture', () => {
  it('is Courier-IMAP 5.0.13 and greets on imap with STARTTLS, without AUTH=PLAIN before TLS', async () => {
    assert.equal(courier.version, 'Courier-IMAP 5.0.13');
    const client = await connectRaw(courier.imap.host, courier.imap.port);
    const greeting = await client.readLine();
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 .*QUOTA.*ACL.*STARTTLS.*\] Courier-IMAP ready\./);
    assert.doesNotMatch(greeting, /LOGINDISABLED|AUTH=PLAIN/);
    client.close();
  });

  it('alice: INBOX with the known mail, sizes, quota, namespaces and folders', async () => {
    const client = await session();
    const select = await client.command('SELECT INBOX');
    assert.ok(select.includes(`* ${courier.expected.inboxMessages} EXISTS`), select.join('\n'));
    assert.ok(select.includes(`* OK [UIDVALIDITY ${courier.expected.inboxUidValidity}] Ok`), select.join('\n'));
    assert.match(tagged(select), /OK \[READ-WRITE\]/);
    const sizes = (await client.command('FETCH 1:* RFC822.SIZE')).filter((l) => l.startsWith('* '));
    assert.deepEqual(sizes.map((l) => Number(/RFC822\.SIZE (\d+)/.exec(l)?.[1])), Array(courier.expected.inboxMessages).fill(courier.expected.messageBytes));
    const { quota } = courier.expected;
    const quotaLines = await client.command('GETQUOTAROOT INBOX');
    assert.deepEqual(quotaLines.slice(0, 2), [`* QUOTAROOT "INBOX" "${quota.root}"`, `* QUOTA "${quota.root}" (STORAGE ${quota.usedKib} ${quota.limitKib})`]);
    assert.equal((await client.command('NAMESPACE'))[0], courier.expected.namespace);
    const all = (await client.command('LIST "" "*"')).map(parseListLine).filter((e) => e !== undefined);
    assert.deepEqual(all.map((e) => e.name).sort(), courier.expected.listAll);
    assert.ok(all.every((e) => e.delimiter === '.'));
    const shared = (await client.command('LIST "" "#shared.*"')).map(parseListLine).filter((e) => e !== undefined);
    assert.deepEqual(shared.map((e) => e.name).sort(), courier.expected.listShared);
    assert.match(tagged(await client.command(`SELECT "${courier.expected.nonAsciiFolder.wire}"`)), /^\S+ OK/);
    const sharedSelect = await client.command(`SELECT "${courier.expected.sharedFolder}"`);
    assert.ok(sharedSelect.includes('* OK [MYRIGHTS "lr"] ACL'), sharedSelect.join('\n'));
    assert.match(tagged(sharedSelect), /OK \[READ-ONLY\]/);
    await client.command('LOGOUT');
    client.close();
  });

  it('carol sees no shared folders; bob owns the shared one', async () => {
    const carol = await session('carol');
    const list = await carol.command('LIST "" "#shared.*"');
    assert.equal(list.length, 1, list.join('\n'));
    assert.match(tagged(list), /^\S+ OK LIST completed$/);
    carol.close();
    const bob = await session('bob');
    const acl = await bob.command('GETACL INBOX.Projects');
    assert.match(acl[0]!, /^\* ACL "INBOX\.Projects" .*"alice" "lr"$/);
    bob.close();
  });

  it('tlsRequired: LOGINDISABLED and "NO STARTTLS required" until STARTTLS; then LOGIN works', async () => {
    const client = await connectRaw(courier.tlsRequired.host, courier.tlsRequired.port);
    assert.match(await client.readLine(), /STARTTLS LOGINDISABLED/);
    assert.match(tagged(await client.command('LOGIN alice x')), /^\S+ NO STARTTLS required$/);
    assert.match(tagged(await client.command('STARTTLS')), /^\S+ OK Begin SSL\/TLS negotiation now\./);
    assert.equal((await client.startTls({ ca })).authorized, true);
    const caps = await client.command('CAPABILITY');
    assert.doesNotMatch(caps[0]!, /LOGINDISABLED|STARTTLS/);
    assert.match(caps[0]!, /AUTH=PLAIN/);
    assert.match(tagged(await client.command(`LOGIN alice ${courier.accounts.alice.password}`)), /^\S+ OK/);
    client.close();
  });

  it('noStarttls: no STARTTLS in CAPABILITY, and STARTTLS is refused', async () => {
    const client = await connectRaw(courier.noStarttls.host, courier.noStarttls.port);
    assert.doesNotMatch(await client.readLine(), /STARTTLS/);
    assert.match(tagged(await client.command('STARTTLS')), /^\S+ NO /);
    client.close();
  });

  it('imaps: couriertls presents the CA-signed certificate', async () => {
    const client = await connectRaw(courier.imaps.host, courier.imaps.port, { tls: { ca } });
    assert.match(await client.readLine(), /^\* OK \[CAPABILITY .*AUTH=PLAIN.*\] Courier-IMAP ready\./);
    assert.match(tagged(await client.command(`LOGIN bob ${courier.accounts.bob.password}`)), /^\S+ OK/);
    client.close();
  });

  it('each broken cause answers LOGIN as a real Courier does, and is restored', async () => {
    assert.deepEqual(await loginWhileBroken('authdaemond-stopped'), ['* BYE Temporary problem, please try again later']);
    assert.deepEqual(await loginWhileBroken('home-missing'), ['* BYE Temporary problem, please try again later']);
    assert.deepEqual(await loginWhileBroken('maildir-missing'), ['* BYE [ALERT] Fatal error: No such file or directory: No such file or directory']);
    assert.deepEqual(await loginWhileBroken('wrong-uid'), ['* BYE [ALERT] Fatal error: Permission denied: Permission denied']);
    assert.deepEqual(await loginWhileBroken('wrong-gid'), ["* BYE [ALERT] Fatal error: Account's mailbox directory is not owned by the correct uid or gid: "]);
    (await session()).close();
  });

  it('cur/ owned by the wrong uid: SELECT INBOX still says OK, with 0 EXISTS', async () => {
    const restore = await courier.break('cur-wrong-owner');
    try {
      const client = await session();
      const select = await client.command('SELECT INBOX');
      assert.ok(select.includes('* 0 EXISTS'), select.join('\n'));
      assert.match(tagged(select), /OK \[READ-WRITE\]/);
      client.close();
    } finally {
      await restore();
    }
    const client = await session();
    assert.ok((await client.command('SELECT INBOX')).includes(`* ${courier.expected.inboxMessages} EXISTS`));
    client.close();
  });

  it('a wrong password and an unknown login both get "NO Login failed." after the failure delay', async () => {
    const attempt = async (user: string, password: string): Promise<string> => {
      const client = await connectRaw(courier.imap.host, courier.imap.port, { timeoutMs: courier.expected.failureDelayMs + 3000 });
      await client.readLine();
      const answer = tagged(await client.command(`LOGIN ${user} ${password}`));
      client.close();
      return answer;
    };
    const answers = await Promise.all([attempt('alice', `wrong-${courier.accounts.alice.password}`), attempt('nobody', 'x')]);
    assert.deepEqual(answers.map((a) => a.replace(/^\S+ /, '')), ['NO Login failed.', 'NO Login failed.']);
  });

  it('keeps passwords out of its own logs', async () => {
    const log = await courier.readLog();
    assert.match(log, /LOGIN, user=alice, ip=\[::ffff:127\.0\.0\.1\]/);
    for (const { password } of Object.values(courier.accounts)) assert.ok(!log.includes(password));
  });

  it('runs a second instance beside the first and cleans up on stop', async () => {
    const second = await startCourier({ pki: courier.pki });
    assert.notEqual(second.imap.port, courier.imap.port);
    assert.notEqual(second.accounts.alice.password, courier.accounts.alice.password);
    const client = await connectRaw(second.imap.host, second.imap.port);
    assert.match(await client.readLine(), /^\* OK /);
    client.close();
    await second.stop();
    await assert.rejects(stat(second.dir), { code: 'ENOENT' });
    // Not "the port refuses" (test/helpers/processes.ts says why): no process of it is left.
    // Only a greeting was read, so no imapd ran and no gam_server (which outlives stop()) was started.
    assert.deepEqual(await processesWith('environ', `${DIR_MARKER}=${second.dir}\0`), []);
  });
});

