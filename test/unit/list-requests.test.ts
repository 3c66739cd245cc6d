// `{namespace: kind}` list entries: expanded to LIST "" "<prefix>*" per announced prefix, in
// config order, each pattern once; an expectation on a kind nobody announced is expectation_failed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { checkNamespaceGroup, planLists } from '../../src/probe/list-requests.js';
import type { ListFacts, Namespaces, NamespaceListRequest } from '../../src/probe/types.js';

const COURIER: Namespaces = {
  personal: [{ prefix: 'INBOX.', delimiter: '.' }],
  other: [],
  shared: [{ prefix: '#shared.', delimiter: '.' }, { prefix: 'shared.', delimiter: '.' }],
};

describe('list entries {namespace: kind}', () => {
  it('expand to one LIST per announced prefix, after the patterns before them; expectations go to the group', () => {
    const shared = { namespace: 'shared', expect: { minFolders: 1 } } as const;
    const { requests, groups } = planLists([{ reference: '', pattern: '*' }, shared, { namespace: 'personal' }], COURIER);
    assert.deepEqual(requests, [
      { reference: '', pattern: '*' },
      { reference: '', pattern: '#shared.*' },
      { reference: '', pattern: 'shared.*' },
      { reference: '', pattern: 'INBOX.*' },
    ]);
    assert.deepEqual(groups, [{ entry: shared, requests: [{ reference: '', pattern: '#shared.*' }, { reference: '', pattern: 'shared.*' }] }]);
  });

  it('send a pattern once: the entry that named it first keeps it', () => {
    const dovecotPersonal: Namespaces = { personal: [{ prefix: '', delimiter: '.' }], other: [], shared: [] };
    const { requests } = planLists([{ reference: '', pattern: '*', expect: { minFolders: 3 } }, { namespace: 'personal' }], dovecotPersonal);
    assert.deepEqual(requests, [{ reference: '', pattern: '*', expect: { minFolders: 3 } }]);
  });

  it('expectations hold for the LISTs together: one non-empty shared prefix is enough', () => {
    const folder = (name: string) => ({ name, delimiter: '.', flags: [] });
    const entry: NamespaceListRequest = { namespace: 'shared', expect: { minFolders: 1, folders: ['#shared.bob.Projects'] } };
    const { groups } = planLists([entry], COURIER);
    const lists: ListFacts[] = [
      { reference: '', pattern: '#shared.*', folders: [folder('#shared.bob'), folder('#shared.bob.Projects')] },
      { reference: '', pattern: 'shared.*', folders: [] },
    ];
    assert.equal(checkNamespaceGroup(groups[0]!, lists, true), undefined);
    assert.deepEqual(lists[0]?.expectedFolders, [{ name: '#shared.bob.Projects', present: true }]);
    const empty = [{ ...lists[0]!, folders: [] }, lists[1]!];
    const failure = checkNamespaceGroup(groups[0]!, empty, true);
    assert.equal(failure?.reason, 'expectation_failed');
    assert.equal(failure?.detail, '{namespace: shared}: LIST "" "#shared.*", LIST "" "shared.*" returned 0 folders, expected at least 1; missing #shared.bob.Projects');
    assert.equal(failure?.hintCause, 'shared_folders');
  });

  it('one expanded LIST: the same words as a pattern entry (LIST "" "#shared.*" returned 0 folders, …)', () => {
    const dovecot: Namespaces = { personal: [], other: [], shared: [{ prefix: '#shared.', delimiter: '.' }] };
    const { groups } = planLists([{ namespace: 'shared', expect: { minFolders: 1 } }], dovecot);
    const failure = checkNamespaceGroup(groups[0]!, [{ reference: '', pattern: '#shared.*', folders: [] }], true);
    assert.equal(failure?.detail, 'LIST "" "#shared.*" returned 0 folders, expected at least 1');
  });

  it('a kind nobody announced lists nothing; with an expectation it is expectation_failed, naming why', () => {
    assert.deepEqual(planLists([{ namespace: 'other' }], COURIER), { requests: [], groups: [] });
    const other = planLists([{ namespace: 'other', expect: { minFolders: 1 } }], COURIER).groups[0]!;
    assert.equal(checkNamespaceGroup(other, [], true)?.detail, "{namespace: other}: the server's NAMESPACE announced no other namespace, expected at least 1");
    const shared = planLists([{ namespace: 'shared', expect: { folders: ['#shared.bob.Projects'] } }], undefined).groups[0]!;
    const failure = checkNamespaceGroup(shared, [], false);
    assert.equal(failure?.detail, '{namespace: shared}: the server announced no namespaces (no NAMESPACE), missing #shared.bob.Projects');
    assert.equal(failure?.hintCause, 'shared_folders');
  });

  describe('in the config file', () => {
    let dir: string;
    before(async () => (dir = await mkdtemp(join(tmpdir(), 'imap-exporter-ns-'))));
    after(() => rm(dir, { recursive: true, force: true }));
    const load = async (list: string) => {
      const path = join(dir, 'c.yaml');
      await writeFile(path, `targets:\n  - name: t\n    host: 127.0.0.1\n    accounts:\n      - username: u\n        password_env: PW\n        list: ${list}\n`);
      return loadConfigFile(path, { env: { PW: 'x' } });
    };

    it('accepts {namespace: kind} beside patterns, with min_folders and folders', async () => {
      const { jobs } = await load("['*', {namespace: shared, min_folders: 1, folders: ['#shared.bob.Projects']}, {namespace: other}]");
      assert.deepEqual(jobs[0]?.spec.account?.list, [
        { reference: '', pattern: '*' },
        { namespace: 'shared', expect: { minFolders: 1, folders: ['#shared.bob.Projects'] } },
        { namespace: 'other' },
      ]);
    });

    it('names what is wrong with a bad entry, and where', async () => {
      for (const [list, error] of [
        ['[{namespace: public}]', /c\.yaml:7: targets\[0\]\.accounts\[0\]\.list\[0\]\.namespace: expected one of personal, other, shared/],
        ['[{namespace: shared, pattern: "x"}]', /list\[0\]\.pattern: unknown key \(expected one of namespace, min_folders, folders\)/],
        ['[{namespace: shared, min_folders: -1}]', /list\[0\]\.min_folders: expected a whole number, 0 or more/],
        ['[42]', /list\[0\]: expected a pattern string or \{pattern, reference, min_folders, folders\}/],
      ] as const) {
        await assert.rejects(load(list), (e: Error) => error.test(e.message), list);
      }
    });
  });
});
