// `{namespace: kind}` list entries: expanded to LIST "" "<prefix>*" per announced prefix, in
// config order, each pattern once; an expectation on a kind nobody announced is expectation_failed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { planLists } from '../../src/probe/list-requests.js';
import type { Namespaces } from '../../src/probe/types.js';

const COURIER: Namespaces = {
  personal: [{ prefix: 'INBOX.', delimiter: '.' }],
  other: [],
  shared: [{ prefix: '#shared.', delimiter: '.' }, { prefix: 'shared.', delimiter: '.' }],
};

describe('list entries {namespace: kind}', () => {
  it('expand to one LIST per announced prefix, with the entry expectations, after the patterns before them', () => {
    const { requests, unmet } = planLists(
      [{ reference: '', pattern: '*' }, { namespace: 'shared', expect: { minFolders: 1 } }, { namespace: 'personal' }],
      COURIER,
    );
    assert.deepEqual(requests, [
      { reference: '', pattern: '*' },
      { reference: '', pattern: '#shared.*', expect: { minFolders: 1 } },
      { reference: '', pattern: 'shared.*', expect: { minFolders: 1 } },
      { reference: '', pattern: 'INBOX.*' },
    ]);
    assert.equal(unmet, undefined);
  });

  it('send a pattern once: the entry that named it first keeps it', () => {
    const dovecotPersonal: Namespaces = { personal: [{ prefix: '', delimiter: '.' }], other: [], shared: [] };
    const { requests } = planLists([{ reference: '', pattern: '*', expect: { minFolders: 3 } }, { namespace: 'personal' }], dovecotPersonal);
    assert.deepEqual(requests, [{ reference: '', pattern: '*', expect: { minFolders: 3 } }]);
  });

  it('a kind nobody announced lists nothing; with an expectation it is expectation_failed, naming why', () => {
    assert.deepEqual(planLists([{ namespace: 'other' }], COURIER), { requests: [] });
    const noOther = planLists([{ namespace: 'other', expect: { minFolders: 1 } }], COURIER).unmet;
    assert.equal(noOther?.reason, 'expectation_failed');
    assert.equal(noOther?.detail, "{namespace: other}: the server's NAMESPACE announced no other namespace, expected at least 1 folder");
    const noNamespace = planLists([{ namespace: 'shared', expect: { folders: ['#shared.bob.Projects'] } }], undefined).unmet;
    assert.equal(noNamespace?.detail, '{namespace: shared}: the server announced no namespaces (no NAMESPACE), missing #shared.bob.Projects');
    assert.equal(noNamespace?.hintCause, 'shared_folders');
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
        ['[{namespace: shared, pattern: "x"}]', /list\[0\]\.pattern: Unrecognized key: "pattern"/],
        ['[{namespace: shared, min_folders: -1}]', /list\[0\]\.min_folders: expected a whole number, 0 or more/],
        ['[42]', /list\[0\]: expected a pattern string or \{pattern, reference, min_folders, folders\}/],
      ] as const) {
        await assert.rejects(load(list), (e: Error) => error.test(e.message), list);
      }
    });
  });
});
