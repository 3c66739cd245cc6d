// Expectations on SELECT and LIST: what passes, what fails, and the detail's exact words.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFolders, checkMessages } from '../../src/probe/expectations.js';
import type { ListedFolder } from '../../src/probe/types.js';

const folders = (...names: string[]): ListedFolder[] => names.map((name) => ({ name, delimiter: '.', flags: [] }));

describe('checkMessages', () => {
  it('passes at or above min_messages, and without one', () => {
    assert.equal(checkMessages({ name: 'INBOX', exists: 1 }, { minMessages: 1 }), undefined);
    assert.equal(checkMessages({ name: 'INBOX', exists: 0 }, {}), undefined);
    assert.equal(checkMessages({ name: 'INBOX', exists: 0 }, undefined), undefined);
    assert.equal(checkMessages({ name: 'INBOX' }, { minMessages: 0 }), undefined);
  });

  it('fails below it, naming the mailbox, the count and the minimum', () => {
    const unmet = checkMessages({ name: 'INBOX', exists: 0 }, { minMessages: 1 });
    assert.deepEqual([unmet?.reason, unmet?.detail, unmet?.hintCause], [
      'expectation_failed',
      'SELECT INBOX showed 0 messages, expected at least 1',
      'too_few_messages',
    ]);
    assert.equal(checkMessages({ name: 'Archive' }, { minMessages: 5 })?.detail, 'SELECT Archive showed no EXISTS count, expected at least 5');
  });
});

describe('checkFolders', () => {
  it('a shared pattern with nothing returned: the detail of the tutorial, the shared-folders cause', () => {
    const check = checkFolders({ reference: '', pattern: '#shared.*', expect: { minFolders: 1 } }, []);
    assert.equal(check.failure?.reason, 'expectation_failed');
    assert.equal(check.failure?.detail, 'LIST "" "#shared.*" returned 0 folders, expected at least 1');
    assert.equal(check.failure?.hintCause, 'shared_folders');
    assert.deepEqual(check.presence, []);
  });

  it('the shared prefix may be in the reference; other patterns get the generic cause', () => {
    assert.equal(checkFolders({ reference: '#shared.', pattern: '%', expect: { minFolders: 1 } }, []).failure?.hintCause, 'shared_folders');
    assert.equal(checkFolders({ reference: '', pattern: 'shared/*', expect: { minFolders: 1 } }, []).failure?.hintCause, 'shared_folders');
    assert.equal(checkFolders({ reference: '', pattern: '*', expect: { minFolders: 5 } }, folders('INBOX')).failure?.hintCause, 'missing_folders');
  });

  it('folders: which expected names are missing, presence for each; INBOX matched case-insensitively', () => {
    const check = checkFolders(
      { reference: '', pattern: '*', expect: { folders: ['inbox.Sent', 'INBOX.Archive', 'Projects'] } },
      folders('INBOX', 'INBOX.Sent', 'projects'),
    );
    assert.equal(check.failure?.detail, 'LIST "" "*" returned 3 folders, missing INBOX.Archive, Projects');
    assert.equal(check.failure?.hintCause, 'missing_folders');
    assert.deepEqual(check.presence, [
      { name: 'inbox.Sent', present: true },
      { name: 'INBOX.Archive', present: false },
      { name: 'Projects', present: false },
    ]);
  });

  it('both unmet: both said; all met or none expected: no failure', () => {
    const both = checkFolders({ reference: '', pattern: '*', expect: { minFolders: 3, folders: ['X'] } }, folders('INBOX'));
    assert.equal(both.failure?.detail, 'LIST "" "*" returned 1 folder, expected at least 3; missing X');
    const met = checkFolders({ reference: '', pattern: '*', expect: { minFolders: 1, folders: ['INBOX'] } }, folders('INBOX'));
    assert.deepEqual(met, { presence: [{ name: 'INBOX', present: true }] });
    assert.deepEqual(checkFolders({ reference: '', pattern: '*' }, []), { presence: [] });
  });
});
