import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SharedLists, StoredResult } from '../../src/scheduler/stored-result.js';
import type { ProbeResult } from '../../src/probe/types.js';

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
const plain = (stored: StoredResult): ProbeResult => ({ ...stored, transcript: stored.transcript });

describe('StoredResult', () => {
  it('reads back exactly as the result it was made from', () => {
    const original = result('alice');
    assert.deepEqual(plain(new StoredResult(original, new SharedLists())), original);
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
