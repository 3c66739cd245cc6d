// What the probe learns beyond pass/fail, against a scripted server speaking as Courier does:
// SELECT's UIDNEXT, PERMANENTFLAGS and [MYRIGHTS], NAMESPACE, GETQUOTAROOT (RFC 2087 form), the
// capability lists apart; refusals are recorded and never fail the probe; without the
// capabilities none of the commands is sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTranscript } from '../../src/probe/transcript.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { replyOk, replyRefusal, type CommandHandler, type FakeImapServer, type MinimalImapOptions } from '../fakes/fake-imap-server.js';
import { imap, probeAgainst } from '../helpers/fake-probe.js';

const COURIER_CAPS = ['IMAP4rev1', 'UIDPLUS', 'CHILDREN', 'NAMESPACE', 'THREAD=ORDEREDSUBJECT', 'QUOTA', 'IDLE', 'ACL', 'ACL2=UNION'];
const COURIER_NAMESPACE = '* NAMESPACE (("INBOX." ".")) NIL (("#shared." ".")("shared." "."))';

/** SELECT as Courier answers it: PERMANENTFLAGS, UIDNEXT and [MYRIGHTS "…"] among the untagged OKs. */
const courierSelect: CommandHandler = (conn, cmd) => {
  conn.write('* FLAGS (\\Draft \\Answered \\Flagged \\Deleted \\Seen \\Recent)\r\n');
  conn.write('* OK [PERMANENTFLAGS (\\* \\Draft \\Answered \\Flagged \\Deleted \\Seen)] Limited\r\n');
  conn.write('* 2 EXISTS\r\n* 0 RECENT\r\n');
  conn.write('* OK [UIDVALIDITY 1700000000] Ok\r\n* OK [UIDNEXT 3] Ok\r\n');
  conn.write('* OK [MYRIGHTS "acdilrsw"] ACL\r\n');
  replyOk(conn, cmd.tag, `[READ-WRITE] Ok`);
};

const courierQuota: CommandHandler = (conn, cmd) => {
  conn.write(`* QUOTAROOT "${cmd.args[0]}" "ROOT"\r\n* QUOTA "ROOT" (STORAGE 12 1024 MESSAGE 2 100)\r\n`);
  replyOk(conn, cmd.tag, 'GETQUOTAROOT Ok.');
};

async function probe(options: MinimalImapOptions): Promise<{ result: ProbeResult; server: FakeImapServer }> {
  const run = await probeAgainst(imap(options));
  assert.equal(run.result.success, true, formatTranscript(run.result.transcript));
  return run;
}

const commandsSent = (server: FakeImapServer) => server.received.map((line) => line.split(' ')[1]);

describe('server facts: SELECT data, NAMESPACE, QUOTA, MYRIGHTS', () => {
  it('Courier-shaped answers: rights from SELECT, namespaces, quota; CAPABILITY asked again after login', async () => {
    const { result, server } = await probe({
      capabilities: COURIER_CAPS,
      overrides: {
        SELECT: courierSelect,
        GETQUOTAROOT: courierQuota,
        NAMESPACE: (conn, cmd) => {
          conn.write(`${COURIER_NAMESPACE}\r\n`);
          replyOk(conn, cmd.tag, 'NAMESPACE completed.');
        },
      },
    });
    assert.deepEqual(result.facts.mailbox, {
      name: 'INBOX', exists: 2, recent: 0, uidValidity: 1_700_000_000, uidNext: 3, writable: true, rights: 'acdilrsw',
      flags: ['\\Draft', '\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Recent'],
      permanentFlags: ['\\*', '\\Draft', '\\Answered', '\\Flagged', '\\Deleted', '\\Seen'],
    });
    assert.deepEqual(result.facts.namespaces, {
      personal: [{ prefix: 'INBOX.', delimiter: '.' }],
      other: [],
      shared: [{ prefix: '#shared.', delimiter: '.' }, { prefix: 'shared.', delimiter: '.' }],
    });
    assert.deepEqual(result.facts.quota, { mailbox: 'INBOX', roots: [{ name: 'ROOT', resources: [
      { name: 'STORAGE', usage: 12, limit: 1024 }, { name: 'MESSAGE', usage: 2, limit: 100 },
    ] }] });
    // The login OK carried no [CAPABILITY]: asked; SELECT carried MYRIGHTS: no MYRIGHTS command.
    assert.deepEqual(commandsSent(server), ['LOGIN', 'CAPABILITY', 'SELECT', 'GETQUOTAROOT', 'NAMESPACE', 'LIST', 'LOGOUT']);
    assert.deepEqual(result.facts.capabilitiesBeforeTls, COURIER_CAPS);
    assert.deepEqual(result.facts.capabilitiesAfterLogin, COURIER_CAPS);
    assert.equal(result.facts.capabilitiesAfterTls, undefined, 'never encrypted');
  });

  it('ACL without MYRIGHTS in SELECT: asks MYRIGHTS; capabilities announced only after login count', async () => {
    const { result, server } = await probe({
      capabilities: ['IMAP4rev1'],
      capabilitiesAfterLogin: ['IMAP4rev1', 'ACL'],
      overrides: {
        MYRIGHTS: (conn, cmd) => {
          conn.write(`* MYRIGHTS "${cmd.args[0]}" lrswipkxtecda\r\n`);
          replyOk(conn, cmd.tag, 'Myrights completed.');
        },
      },
    });
    assert.equal(result.facts.mailbox?.rights, 'lrswipkxtecda');
    assert.deepEqual(commandsSent(server), ['LOGIN', 'SELECT', 'MYRIGHTS', 'LIST', 'LOGOUT']);
  });

  it('NO to GETQUOTAROOT, NAMESPACE and MYRIGHTS: recorded, the probe still passes', async () => {
    const refuse: CommandHandler = (conn, cmd) => replyRefusal(conn, cmd.tag, { no: `[NONEXISTENT] no ${cmd.name.toLowerCase()} here` });
    const { result } = await probe({
      capabilities: ['IMAP4rev1', 'QUOTA', 'NAMESPACE', 'ACL'],
      overrides: { GETQUOTAROOT: refuse, NAMESPACE: refuse, MYRIGHTS: refuse },
    });
    assert.equal(result.facts.quota, undefined);
    assert.equal(result.facts.quotaRefused, 'GETQUOTAROOT INBOX: the server answered NO [NONEXISTENT] no getquotaroot here');
    assert.equal(result.facts.namespaces, undefined);
    assert.equal(result.facts.namespaceRefused, 'NAMESPACE: the server answered NO [NONEXISTENT] no namespace here');
    assert.equal(result.facts.mailbox?.rights, undefined);
  });

  it('a malformed NAMESPACE answer and unparseable quota numbers are noted, not trusted', async () => {
    const { result } = await probe({
      capabilities: ['IMAP4rev1', 'QUOTA', 'NAMESPACE'],
      overrides: {
        NAMESPACE: (conn, cmd) => {
          conn.write('* NAMESPACE "personal" NIL\r\n');
          replyOk(conn, cmd.tag, 'NAMESPACE completed.');
        },
        GETQUOTAROOT: (conn, cmd) => {
          conn.write('* QUOTAROOT INBOX "" "extra"\r\n* QUOTA "" (STORAGE 99999999999999999999 1024 MESSAGE x 5 MAILBOX 1 10)\r\n');
          replyOk(conn, cmd.tag, 'Ok.');
        },
      },
    });
    assert.match(result.facts.namespaceRefused ?? '', /without a well-formed \* NAMESPACE response/);
    assert.deepEqual(result.facts.quota?.roots, [
      { name: '', resources: [{ name: 'MAILBOX', usage: 1, limit: 10 }] },
      { name: 'extra', resources: [] },
    ]);
  });

  it('a server advertising none of them gets none of the commands', async () => {
    const { result, server } = await probe({ capabilitiesAfterLogin: ['IMAP4rev1'] });
    assert.deepEqual(commandsSent(server), ['LOGIN', 'SELECT', 'LIST', 'LOGOUT']);
    assert.equal(result.facts.quota, undefined);
    assert.equal(result.facts.namespaces, undefined);
    assert.equal(result.facts.mailbox?.uidNext, 4);
  });

  it('a close in answer to the CAPABILITY asked after login is auth_unavailable, in the login stage', async () => {
    const { result } = await probeAgainst(imap({
      overrides: {
        CAPABILITY: (conn, cmd, session) => {
          if (session.user === undefined) return replyOk(conn, cmd.tag, 'never asked before login here');
          conn.write('* BYE Temporary problem, please try again later\r\n');
          conn.destroy();
        },
      },
    }));
    assert.deepEqual([result.failure?.stage, result.failure?.reason], ['login', 'auth_unavailable'], formatTranscript(result.transcript));
    assert.match(result.failure?.detail ?? '', /accepted the login, then ended the session in answer to CAPABILITY: \* BYE Temporary problem/);
  });
});
