// `imap_exporter check` spawned as a process against a real Dovecot: exit codes and output.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotServer } from '../fixtures/dovecot.js';
import { runMain } from '../helpers/spawn.js';
import type { ProbeResult } from '../../src/probe/types.js';

let dovecot: DovecotServer;
let goodFile: string;
let wrongFile: string;
const WRONG = 'wrong-Password-4242';

before(async () => {
  dovecot = await startDovecot();
  goodFile = join(dovecot.dir, 'alice.password');
  wrongFile = join(dovecot.dir, 'wrong.password');
  await writeFile(goodFile, `${dovecot.accounts.alice.password}\n`);
  await writeFile(wrongFile, `${WRONG}\n`);
});
after(() => dovecot?.stop());

const target = () => `${dovecot.imap.host}:${dovecot.imap.port}`;

describe('imap_exporter check', () => {
  it('prints every stage ✓ with its time and the facts, exits 0', async () => {
    const run = await runMain(['check', target(), '--starttls', '--user', 'alice', '--password-file', goodFile, '--ca-file', dovecot.caFile,
      '--list', '*', '--list', '#shared.*']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    for (const stage of ['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout']) {
      assert.match(run.stdout, new RegExp(`✓ ${stage}\\s+\\d+(\\.\\d+)? ms`), `${stage} line`);
    }
    assert.match(run.stdout, /\* OK imap_exporter test Dovecot ready\./);
    assert.match(run.stdout, /TLSv1\.[23] .*certificate expires in \d+ days/);
    assert.match(run.stdout, new RegExp(`INBOX: ${dovecot.expected.inboxMessages} messages`));
    assert.match(run.stdout, new RegExp(`"\\*": ${dovecot.expected.listAll.length} folders`));
    assert.match(run.stdout, /OK: every stage passed/);
    assert.ok(!run.stdout.includes(dovecot.accounts.alice.password));
  });

  it('shows what telnet would: folder names decoded as a tree, capabilities, SELECT data, namespaces, quota', async () => {
    const run = await runMain(['check', target(), '--user', 'alice', '--password-file', goodFile, '--ca-file', dovecot.caFile,
      '--list', '*', '--list', '#shared.*']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const { expected } = dovecot;
    const shown = run.stdout.slice(run.stdout.indexOf('what the server showed:'));
    assert.match(shown, /^ {2}before TLS {2}IMAP4rev1 .*STARTTLS/m);
    assert.match(shown, /^ {2}after TLS {3}−STARTTLS$/m);
    assert.match(shown, /^ {2}after login −AUTH=PLAIN .*\+SORT/m);
    assert.match(shown, /^ {14}.*\+NAMESPACE /m, 'long lists wrap under their label');
    assert.match(shown, new RegExp(`^mailbox {7}INBOX: ${expected.inboxMessages} messages \\(EXISTS\\), 0 recent, UIDVALIDITY ${expected.inboxUidValidity}, UIDNEXT ${expected.inboxMessages + 1}, READ-WRITE$`, 'm'));
    assert.match(shown, /^ {2}permanent {3}\\Answered \\Flagged \\Deleted \\Seen \\Draft \\\*$/m);
    assert.match(shown, new RegExp(`^quota {9}"${expected.quota.root}": STORAGE ${expected.quota.storageKiB} KiB of ${expected.quota.storageLimitKiB} KiB`, 'm'));
    assert.match(shown, /^namespaces {4}personal "" \("\."\) · other users "user\." \("\."\) · shared "#shared\." \("\."\)$/m);
    const listAll = shown.slice(shown.indexOf('LIST "" "*"'), shown.indexOf('LIST "" "#shared.*"'));
    const names = listAll.split('\n').slice(1).filter((l) => l !== '').map((l) => l.trim().split('  ')[0]);
    assert.deepEqual([...names].sort(), expected.listAll);
    assert.match(listAll, /^ {2}Entwürfe$/m);
    assert.match(listAll, /^ {2}Archive {2}\\Noselect \\HasChildren\n {4}Archive\.2025$/m);
    assert.match(listAll, /^ {2}Sent {2}\\Sent$/m);
    assert.match(shown, /^LIST "" "#shared\.\*" {2}2 folders\n {2}#shared\.announcements\n {2}#shared\.postmaster$/m);
  });

  it('--json prints the whole result, parseable, without the password', async () => {
    const run = await runMain(['check', target(), '--json', '--user', 'alice', '--password-file', goodFile, '--ca-file', dovecot.caFile]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const result = JSON.parse(run.stdout) as ProbeResult;
    assert.equal(result.success, true);
    assert.deepEqual(result.facts.namespaces, dovecot.expected.namespaces);
    assert.equal(result.facts.quota?.roots[0]?.resources[0]?.usage, dovecot.expected.quota.storageKiB);
    assert.ok(result.facts.lists[0]?.folders.some((f) => f.name === dovecot.expected.nonAsciiFolder.name));
    assert.ok(!run.stdout.includes(dovecot.accounts.alice.password));
  });

  it('a wrong password prints "login ✗ auth_failed" and the hint, exits 1, and --verbose shows no password', async () => {
    const run = await runMain(['check', target(), '--user', 'alice', '--password-file', wrongFile, '--ca-file', dovecot.caFile, '--verbose']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /login ✗ auth_failed/);
    assert.match(run.stdout, /detail: the server answered NO \[AUTHENTICATIONFAILED\] /);
    assert.match(run.stdout, /hint: the credentials were rejected .*wrong password or unknown login id.*DEBUG_LOGIN/);
    // The session ends with a LOGOUT, not a dropped connection.
    assert.match(run.stdout, /-- LOGOUT after the failed login stage/);
    assert.match(run.stdout, /C: a\d+ LOGIN "alice" \*\*\*/);
    assert.match(run.stdout, /S: a\d+ NO \[AUTHENTICATIONFAILED\]/);
    assert.ok(!(run.stdout + run.stderr).includes(WRONG), 'the password appears in the output');
  });

  it('--verbose on a good login shows the redacted transcript and never the password', async () => {
    const run = await runMain(['check', `${dovecot.imaps.host}:${dovecot.imaps.port}`, '--tls', '--auth', 'plain', '--user', 'alice',
      '--password-env', 'PROBE_PW', '--ca-file', dovecot.caFile, '--verbose'], { env: { PROBE_PW: dovecot.accounts.alice.password } });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /AUTHENTICATE PLAIN \*\*\*/);
    const base64 = Buffer.from(`\0alice\0${dovecot.accounts.alice.password}`).toString('base64');
    assert.ok(!run.stdout.includes(dovecot.accounts.alice.password));
    assert.ok(!run.stdout.includes(base64));
  });

  it('an expired certificate exits 1 naming the reason (and does not crash)', async () => {
    const run = await runMain(['check', `${dovecot.expired.host}:${dovecot.expired.port}`, '--tls', '--ca-file', dovecot.caFile]);
    assert.equal(run.signal, null);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /tls ✗ tls_certificate_expired/);
  });

  it('an untrusted certificate exits 1 (and does not crash)', async () => {
    const run = await runMain(['check', `${dovecot.imaps.host}:${dovecot.imaps.port}`, '--tls']);
    assert.equal(run.signal, null);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /tls ✗ tls_certificate_invalid/);
  });

  it('the auth backend failing: "login ✗ auth_unavailable", the server words and the hint without --verbose', async () => {
    const run = await runMain(['check', target(), '--user', 'unavailable', '--password-file', wrongFile, '--ca-file', dovecot.caFile]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /✗ login .*auth_unavailable\n/);
    assert.match(run.stdout, /\nlogin ✗ auth_unavailable\n {2}detail: the server answered NO \[UNAVAILABLE\] Temporary authentication failure\./);
    assert.match(run.stdout, / {2}hint: .*authdaemond/);
  });

  it('--min-messages and --min-folders: expectation_failed with the detail of the walk', async () => {
    const bobFile = join(dovecot.dir, 'bob.password');
    await writeFile(bobFile, `${dovecot.accounts.bob.password}\n`);
    const empty = await runMain(['check', target(), '--user', 'bob', '--password-file', bobFile, '--ca-file', dovecot.caFile, '--min-messages', '1']);
    assert.equal(empty.code, 1, empty.stdout + empty.stderr);
    assert.match(empty.stdout, /select ✗ expectation_failed\n {2}detail: SELECT INBOX showed 0 messages, expected at least 1\n/);
    const shared = await runMain(['check', target(), '--user', 'alice', '--password-file', goodFile, '--ca-file', dovecot.caFile,
      '--list', '#shared.nosuch.*', '--min-folders', '1']);
    assert.equal(shared.code, 1, shared.stdout + shared.stderr);
    assert.match(shared.stdout, /list ✗ expectation_failed\n {2}detail: LIST "" "#shared\.nosuch\.\*" returned 0 folders, expected at least 1\n {2}hint: no virtual shared folders/);
  });

  it('bad usage exits 2 with the usage text', async () => {
    for (const args of [[], ['--bogus', 'x'], ['h', '--tls', '--starttls'], ['h:99999'], ['h', '--user', 'u'], ['h', '--timeout', '10 seconds'],
      ['h', '--min-messages', '1'], ['h', '--user', 'u', '--password-env', 'X', '--min-folders', 'many']]) {
      const run = await runMain(['check', ...args]);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /usage: imap_exporter check HOST\[:PORT\]/);
    }
  });
});
