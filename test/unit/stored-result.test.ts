import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SharedLists, StoredResult } from '../../src/scheduler/stored-result.js';
import type { ListedFolder, ProbeResult } from '../../src/probe/types.js';

function result(account: string, capabilities = ['IMAP4rev1', 'IDLE', 'LITERAL+']): ProbeResult {
  return {
    target: 'mail',
    account,
    success: false,
    startedAt: 1000,
    endedAt: 1250,
    durationSeconds: 0.25,
    stages: [
      { stage: 'connect', success: true, durationSeconds: 0.01 },
      { stage: 'login', success: false, durationSeconds: 0.2 },
    ],
    failure: { stage: 'login', reason: 'auth_failed', hint: 'h', detail: 'a NO Login failed.' },
    facts: {
      address: '127.0.0.1',
      capabilitiesBeforeTls: [...capabilities, 'STARTTLS'],
      capabilities: [...capabilities],
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, certNotAfter: 2e9 },
      lists: [
        {
          reference: '',
          pattern: '*',
          folders: [
            { name: 'INBOX', delimiter: '.', flags: ['\\HasNoChildren'] },
            { name: 'Sent', delimiter: '.', flags: ['\\HasNoChildren', '\\Sent'] },
          ],
          expectedFolders: [{ name: 'Sent', present: true }],
        },
      ],
    },
    transcript: [
      { atMs: 0.5, direction: '-', text: 'connected to 127.0.0.1:143' },
      { atMs: 1.25, direction: 'S', text: '* OK [CAPABILITY IMAP4rev1 “ü”] ready' },
      { atMs: 2, direction: 'C', text: 'a1 LOGIN "alice" ***' },
      { atMs: 250, direction: 'S', text: 'a1 NO Login failed.' },
    ],
  };
}

/** The stored result as a plain object, its transcript read through the getter. */
const plain = (stored: StoredResult): ProbeResult => ({ ...stored, stages: stored.stages, transcript: stored.transcript });

describe('StoredResult', () => {
  it('reads back exactly as the result it was made from', () => {
    const original = result('alice');
    assert.deepEqual(plain(new StoredResult(original, new SharedLists())), original);
  });

  it('reads back stages with any duration, and none', () => {
    const odd = result('alice');
    odd.stages = [
      { stage: 'connect', success: true, durationSeconds: 1e-7 },
      { stage: 'greeting', success: false, durationSeconds: Number.NaN },
      { stage: 'login', success: false, durationSeconds: Number.POSITIVE_INFINITY },
    ];
    assert.deepEqual(new StoredResult(odd, new SharedLists()).stages, odd.stages);
    const none = { ...result('bob'), stages: [] };
    assert.deepEqual(new StoredResult(none, new SharedLists()).stages, []);
    const stored = new StoredResult(result('carol'), new SharedLists());
    stored.stages.pop();
    assert.equal(stored.stages.length, 2, 'each read is a fresh copy');
  });

  it('keeps the transcript packed: not an own field, and each read is a fresh copy', () => {
    const stored = new StoredResult(result('alice'), new SharedLists());
    assert.ok(!Object.keys(stored).includes('transcript'));
    const first = stored.transcript;
    assert.notEqual(stored.transcript, first);
    first[0]!.text = 'changed by a reader';
    first.pop();
    assert.deepEqual(stored.transcript, result('alice').transcript);
  });

  it('shares equal capability and attribute lists between results, frozen', () => {
    const lists = new SharedLists();
    const a = new StoredResult(result('alice'), lists);
    const b = new StoredResult(result('bob'), lists);
    assert.equal(a.facts.capabilities, b.facts.capabilities);
    assert.equal(a.facts.capabilitiesBeforeTls, b.facts.capabilitiesBeforeTls);
    assert.equal(a.facts.lists[0]!.folders[0]!.flags, b.facts.lists[0]!.folders[0]!.flags);
    assert.ok(Object.isFrozen(a.facts.capabilities));
    assert.throws(() => a.facts.capabilities!.push('X'), TypeError);
    const other = new StoredResult(result('carol', ['IMAP4rev1']), lists);
    assert.deepEqual(other.facts.capabilities, ['IMAP4rev1']);
    assert.notEqual(other.facts.capabilities, a.facts.capabilities);
  });

  it('shares equal folder lists and mailbox flags between results, frozen, and keeps a list of its own beyond the bounds', () => {
    const withMailbox = (account: string, folders?: ListedFolder[]): ProbeResult => {
      const made = result(account);
      made.facts.mailbox = { name: 'INBOX', exists: account.length, flags: ['\\Seen', '\\Draft'], permanentFlags: ['\\Seen', '\\*'] };
      if (folders) made.facts.lists[0]!.folders = folders;
      return made;
    };
    const lists = new SharedLists(4096, 2);
    const a = new StoredResult(withMailbox('alice'), lists);
    const b = new StoredResult(withMailbox('bob'), lists);
    assert.equal(a.facts.lists[0]!.folders, b.facts.lists[0]!.folders);
    assert.equal(a.facts.mailbox!.flags, b.facts.mailbox!.flags);
    assert.equal(a.facts.mailbox!.permanentFlags, b.facts.mailbox!.permanentFlags);
    assert.deepEqual([a.facts.mailbox!.exists, b.facts.mailbox!.exists], [5, 3], 'the counts are each their own');
    assert.ok(Object.isFrozen(a.facts.lists[0]!.folders) && Object.isFrozen(a.facts.lists[0]!.folders[0]));
    assert.throws(() => (a.facts.lists[0]!.folders[0]!.name = 'changed'), TypeError);

    const other = [{ name: 'Other', delimiter: '/', flags: ['\\HasNoChildren'] }];
    const c = new StoredResult(withMailbox('carol', other), lists);
    assert.deepEqual(c.facts.lists[0]!.folders, other);
    assert.notEqual(c.facts.lists[0]!.folders, a.facts.lists[0]!.folders);
    // Two lists are shared now: a third distinct one, and one too long to share, are copies of their own, attributes still shared.
    const third = [{ name: 'Third', delimiter: '/', flags: ['\\HasNoChildren'] }];
    const d = new StoredResult(withMailbox('dave', third), lists);
    const e = new StoredResult(withMailbox('erin', third), lists);
    assert.notEqual(d.facts.lists[0]!.folders, e.facts.lists[0]!.folders);
    assert.deepEqual(d.facts.lists[0]!.folders, third);
    assert.equal(d.facts.lists[0]!.folders[0]!.flags, c.facts.lists[0]!.folders[0]!.flags);
    const many = Array.from({ length: 200 }, (_, i) => ({ name: `Folder ${i}`, delimiter: '/', flags: [] }));
    const fresh = new SharedLists();
    const f = new StoredResult(withMailbox('frank', many), fresh);
    const g = new StoredResult(withMailbox('grace', many), fresh);
    assert.notEqual(f.facts.lists[0]!.folders, g.facts.lists[0]!.folders, 'a long list is kept per result');
    assert.deepEqual(g.facts.lists[0]!.folders, many);
  });

  it('keeps each server and client line of 16 or more characters once for all results, within its bound, and reads every transcript back whole', () => {
    const lists = new SharedLists(4096, 1024, 3);
    const a = new StoredResult(result('alice'), lists);
    // Shared: the greeting, the LOGIN line and its answer; not "connected to …" (ours) nor what is shorter than 16 characters.
    assert.equal(lists.texts, 3);
    const b = new StoredResult(result('bob'), lists);
    assert.equal(lists.texts, 3, 'the same lines again: nothing new kept');
    const other = result('carol');
    other.transcript.push({ atMs: 300, direction: 'S', text: '* BYE server shutting down "now" \\ ü' }, { atMs: 301, direction: 'S', text: '12345678901234567' });
    const c = new StoredResult(other, lists);
    assert.equal(lists.texts, 2, 'at the bound the kept lines are forgotten, and the new ones kept anew');
    for (const [stored, made] of [[a, result('alice')], [b, result('bob')], [c, other]] as const) assert.deepEqual(stored.transcript, made.transcript);
    assert.deepEqual(new StoredResult(result('dave'), lists).transcript, result('dave').transcript, 'and after that');
  });

  it('does not change the result it was made from', () => {
    const original = result('alice');
    const stored = new StoredResult(original, new SharedLists());
    assert.notEqual(stored.facts.capabilities, original.facts.capabilities);
    assert.ok(!Object.isFrozen(original.facts.capabilities));
    assert.ok(!Object.isFrozen(original.facts.lists[0]!.folders[0]!.flags));
  });

  it('stops sharing at its bound: a server sending ever new lists keeps its own copies', () => {
    const lists = new SharedLists(2);
    assert.equal(lists.share(['A']), lists.share(['A']));
    lists.share(['B']);
    const third = ['C'];
    assert.equal(lists.share(third), third, 'beyond the bound the list itself comes back');
    assert.equal(lists.size, 2);
    assert.ok(!Object.isFrozen(third));
  });
});
