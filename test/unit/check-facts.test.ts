// `check`'s "what the server showed" block: capability lists as sets and changes, SELECT data,
// quota, namespaces and each LIST pattern's folders as a capped tree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FOLDER_CAP, formatServerFacts } from '../../src/cli/check-facts.js';
import { folderTree } from '../../src/cli/folder-tree.js';
import type { ListedFolder, ProbeFacts } from '../../src/probe/types.js';

const folder = (name: string, ...flags: string[]): ListedFolder => ({ name, delimiter: '.', flags: ['\\HasNoChildren', ...flags] });

const FACTS: ProbeFacts = {
  greeting: 'Courier-IMAP ready.',
  capabilitiesBeforeTls: ['IMAP4rev1', 'STARTTLS', 'LOGINDISABLED'],
  capabilitiesAfterTls: ['IMAP4rev1', 'AUTH=PLAIN'],
  capabilitiesAfterLogin: ['IMAP4rev1', 'AUTH=PLAIN'],
  mailbox: { name: 'INBOX', exists: 3, recent: 0, uidValidity: 17, uidNext: 4, writable: true, rights: 'acdilrsw',
    permanentFlags: ['\\Seen', '\\*'] },
  quota: { mailbox: 'INBOX', roots: [{ name: 'ROOT', resources: [{ name: 'STORAGE', usage: 3, limit: 1024 }, { name: 'MESSAGE', usage: 3, limit: 0 }] }] },
  namespaces: { personal: [{ prefix: 'INBOX.', delimiter: '.' }], other: [], shared: [{ prefix: '#shared.', delimiter: '.' }] },
  lists: [
    { reference: '', pattern: '#shared.*', folders: [folder('#shared.bob.Projects'), { name: '#shared.bob', delimiter: '.', flags: ['\\Noselect', '\\HasChildren'] }] },
    { reference: '', pattern: '*', folders: [folder('Sent', '\\Sent'), folder('Entwürfe'), folder('INBOX')] },
  ],
};

describe('check: what the server showed', () => {
  it('prints greeting, capability changes, SELECT data, quota, namespaces and folder trees', () => {
    assert.equal(formatServerFacts(FACTS, { allFolders: false }), [
      'greeting      * OK Courier-IMAP ready.',
      'capabilities',
      '  before TLS  IMAP4rev1 STARTTLS LOGINDISABLED',
      '  after TLS   −STARTTLS −LOGINDISABLED +AUTH=PLAIN',
      '  after login (unchanged)',
      'mailbox       INBOX: 3 messages (EXISTS), 0 recent, UIDVALIDITY 17, UIDNEXT 4, READ-WRITE',
      '  rights      acdilrsw (MYRIGHTS)',
      '  permanent   \\Seen \\*',
      'quota         "ROOT": STORAGE 3 KiB of 1024 KiB (0.3 %), MESSAGE 3 of 0',
      'namespaces    personal "INBOX." (".") · other users none · shared "#shared." (".")',
      'LIST "" "#shared.*"  2 folders',
      '  #shared.bob  \\Noselect \\HasChildren',
      '    #shared.bob.Projects',
      'LIST "" "*"   3 folders',
      '  INBOX',
      '  Entwürfe',
      '  Sent  \\Sent',
    ].join('\n'));
  });

  it('prints only what the probe learnt, and the refusals', () => {
    assert.equal(formatServerFacts({ lists: [] }, { allFolders: false }), '');
    const refused = formatServerFacts({ lists: [], quotaRefused: 'GETQUOTAROOT INBOX: the server answered NO no quota', namespaceRefused: 'NAMESPACE: NO' }, { allFolders: false });
    assert.equal(refused, 'quota         GETQUOTAROOT INBOX: the server answered NO no quota\nnamespaces    NAMESPACE: NO');
  });

  it(`caps each pattern at ${FOLDER_CAP} folders unless allFolders`, () => {
    const folders = Array.from({ length: FOLDER_CAP + 7 }, (_, i) => folder(`F${String(i).padStart(3, '0')}`));
    const facts: ProbeFacts = { lists: [{ reference: '', pattern: '*', folders }] };
    const capped = formatServerFacts(facts, { allFolders: false }).split('\n');
    assert.equal(capped.length, 1 + FOLDER_CAP + 1);
    assert.equal(capped.at(-1), '  … and 7 more (--all-folders lists them all)');
    const all = formatServerFacts(facts, { allFolders: true }).split('\n');
    assert.equal(all.length, 1 + FOLDER_CAP + 7);
    assert.equal(all.at(-1), `  F${String(FOLDER_CAP + 6).padStart(3, '0')}`);
  });

  it('the tree indents by listed ancestors only, INBOX first, a flat (NIL) delimiter stays flat', () => {
    const tree = folderTree([
      folder('Archive.2025.Q1'), folder('Archive'), folder('inbox.Sub'), folder('inbox'), { name: 'a.b', delimiter: null, flags: [] },
    ]);
    assert.deepEqual(tree.map((l) => [l.depth, l.folder.name]), [[0, 'inbox'], [1, 'inbox.Sub'], [0, 'Archive'], [1, 'Archive.2025.Q1'], [0, 'a.b']]);
  });
});
