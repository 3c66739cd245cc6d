/** EMFILE/ENFILE anywhere in a failure's causes is the exporter's own fault, flagged on the result. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runProbe } from '../../src/probe/run-probe.js';
import { minimalImap, startFakeImapServer } from '../fakes/fake-imap-server.js';
import { account, fakeSpec } from '../helpers/fake-probe.js';

test('a password read failing with EMFILE flags the result fd_exhausted; other failures do not', async () => {
  const server = await startFakeImapServer(minimalImap());
  try {
    const emfile = Object.assign(new Error('too many open files'), { code: 'EMFILE' });
    const exhausted = await runProbe(fakeSpec(server, { account: account({ password: () => Promise.reject(emfile) }) }));
    assert.equal(exhausted.failure?.reason, 'credentials_unavailable');
    assert.equal(exhausted.exporterFault, 'fd_exhausted');
    const missing = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    const other = await runProbe(fakeSpec(server, { account: account({ password: () => Promise.reject(missing) }) }));
    assert.equal(other.failure?.reason, 'credentials_unavailable');
    assert.equal(other.exporterFault, undefined);
  } finally {
    await server.close();
  }
});
