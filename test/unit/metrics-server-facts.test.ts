// The families read from what the server showed: capability lists by `when`, UIDNEXT, MYRIGHTS,
// NAMESPACE and GETQUOTAROOT. Exact series, their bounds against a hostile server, and
// `promtool check metrics` on the result.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeExposition } from '../../src/metrics/probe-registry.js';
import type { ProbeFacts, ProbeResult } from '../../src/probe/types.js';
import { parseExpositionFull, promtoolCheck, select, type Sample } from '../helpers/exposition.js';
import { testJob } from '../helpers/jobs.js';

const job = testJob('courier', 'probe-user');
const A = { target: 'courier', account: 'probe-user' };

function passed(facts: Partial<ProbeFacts>): ProbeResult {
  const stages = (['connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout'] as const).map((stage) => ({
    stage, success: true, durationSeconds: 0.01,
  }));
  return {
    target: 'courier', account: 'probe-user', success: true, startedAt: 0, endedAt: 1, durationSeconds: 0.07, stages,
    facts: { lists: [], ...facts }, transcript: [],
  };
}

const COURIER: Partial<ProbeFacts> = {
  capabilitiesBeforeTls: ['IMAP4rev1', 'STARTTLS', 'LOGINDISABLED'],
  capabilitiesAfterTls: ['IMAP4rev1', 'AUTH=PLAIN'],
  capabilitiesAfterLogin: ['IMAP4rev1', 'NAMESPACE', 'QUOTA', 'ACL', 'idle', 'IDLE'],
  mailbox: { name: 'INBOX', exists: 2, uidNext: 3, rights: 'acdilrsw' },
  namespaces: {
    personal: [{ prefix: 'INBOX.', delimiter: '.' }],
    other: [],
    shared: [{ prefix: '#shared.', delimiter: '.' }, { prefix: 'shared.', delimiter: '.' }, { prefix: 'shared.', delimiter: '.' }],
  },
  quota: {
    mailbox: 'INBOX',
    roots: [{ name: 'ROOT', resources: [
      { name: 'STORAGE', usage: 12, limit: 1024 }, { name: 'MESSAGE', usage: 2, limit: 100 },
      { name: 'ANNOTATION-STORAGE', usage: 1, limit: 10 }, { name: 'MESSAGE', usage: 9, limit: 9 },
    ] }],
  },
};

async function scrape(result: ProbeResult): Promise<{ samples: Sample[]; text: string }> {
  const text = probeExposition(job, result);
  return { samples: parseExpositionFull(text).samples, text };
}

const rows = (samples: Sample[], name: string, keys: string[]) => select(samples, name).map((s) => [...keys.map((k) => s.labels[k]), s.value]);

describe('server-facts metric families', () => {
  it('exports each capability list under its own `when`, de-duplicated and upper-cased', async () => {
    const { samples } = await scrape(passed(COURIER));
    assert.deepEqual(rows(samples, 'imap_server_capability', ['when', 'capability']), [
      ['pre_tls', 'IMAP4REV1', 1], ['pre_tls', 'STARTTLS', 1], ['pre_tls', 'LOGINDISABLED', 1],
      ['post_tls', 'IMAP4REV1', 1], ['post_tls', 'AUTH=PLAIN', 1],
      ['post_login', 'IMAP4REV1', 1], ['post_login', 'NAMESPACE', 1], ['post_login', 'QUOTA', 1], ['post_login', 'ACL', 1],
      ['post_login', 'IDLE', 1],
    ]);
    assert.ok(select(samples, 'imap_server_capability').every((s) => Object.keys(s.labels).join() === 'target,capability,when'));
  });

  it('UIDNEXT, rights, namespaces and quota as the server said them; STORAGE in bytes', async () => {
    const { samples } = await scrape(passed(COURIER));
    assert.deepEqual(rows(samples, 'imap_mailbox_uidnext', ['mailbox']), [['INBOX', 3]]);
    assert.deepEqual(rows(samples, 'imap_mailbox_rights_info', ['mailbox', 'rights']), [['INBOX', 'acdilrsw', 1]]);
    assert.deepEqual(rows(samples, 'imap_namespace_info', ['type', 'prefix', 'delimiter']), [
      ['personal', 'INBOX.', '.', 1], ['shared', '#shared.', '.', 1], ['shared', 'shared.', '.', 1],
    ]);
    assert.deepEqual(rows(samples, 'imap_quota_storage_usage_bytes', ['root']), [['ROOT', 12 * 1024]]);
    assert.deepEqual(rows(samples, 'imap_quota_storage_limit_bytes', ['root']), [['ROOT', 1024 * 1024]]);
    // ANNOTATION-STORAGE (KiB) stays out of the counted family; a repeated resource counts once.
    assert.deepEqual(rows(samples, 'imap_quota_usage', ['root', 'resource']), [['ROOT', 'MESSAGE', 2]]);
    assert.deepEqual(rows(samples, 'imap_quota_limit', ['root', 'resource']), [['ROOT', 'MESSAGE', 100]]);
    for (const s of select(samples, 'imap_quota_usage')) assert.deepEqual({ ...s.labels, resource: '', root: '' }, { ...A, resource: '', root: '' });
  });

  it('a server without QUOTA, NAMESPACE or rights exports none of those families', async () => {
    const { samples } = await scrape(passed({ mailbox: { name: 'INBOX', exists: 1 } }));
    for (const name of ['imap_mailbox_uidnext', 'imap_mailbox_rights_info', 'imap_namespace_info', 'imap_quota_storage_usage_bytes',
      'imap_quota_storage_limit_bytes', 'imap_quota_usage', 'imap_quota_limit', 'imap_server_capability']) {
      assert.deepEqual(select(samples, name), [], name);
    }
  });

  it('a hostile server cannot blow up the label sets', async () => {
    const many = <T,>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
    const { samples } = await scrape(passed({
      capabilitiesBeforeTls: many(80, (i) => `A${i}`),
      capabilitiesAfterTls: many(80, (i) => `B${i}`),
      capabilitiesAfterLogin: ['X'.repeat(65), ...many(80, (i) => `C${i}`)],
      mailbox: { name: 'INBOX', rights: 'r'.repeat(65) },
      namespaces: { personal: many(50, (i) => ({ prefix: `p${i}.`, delimiter: '.' })), other: [], shared: [{ prefix: 'x'.repeat(65), delimiter: '.' }] },
      quota: { mailbox: 'INBOX', roots: many(50, (i) => ({ name: `r${i}`, resources: many(50, (k) => ({ name: `RES${k}`, usage: 1, limit: 2 })) })) },
    }));
    const capabilities = select(samples, 'imap_server_capability');
    assert.equal(capabilities.length, 100, 'at most 100 capability series per target, all lists together');
    assert.deepEqual([...new Set(capabilities.map((s) => s.labels.when))], ['pre_tls', 'post_tls']);
    assert.deepEqual(select(samples, 'imap_mailbox_rights_info'), []);
    assert.equal(select(samples, 'imap_namespace_info').length, 20);
    assert.equal(select(samples, 'imap_quota_usage').length, 10 * 10);
  });

  it('the new families pass promtool check metrics, odd label values included', async () => {
    const odd = passed({
      ...COURIER,
      mailbox: { name: 'Entwürfe "neu" \\', uidNext: 9, rights: 'lr' },
      namespaces: { personal: [{ prefix: '', delimiter: null }], other: [{ prefix: 'Other Users/', delimiter: '/' }], shared: [] },
    });
    const { text } = await scrape(odd);
    for (const family of ['imap_mailbox_uidnext', 'imap_mailbox_rights_info', 'imap_namespace_info', 'imap_quota_storage_usage_bytes',
      'imap_quota_storage_limit_bytes', 'imap_quota_usage', 'imap_quota_limit', 'imap_server_capability']) {
      assert.match(text, new RegExp(`^# TYPE ${family} gauge$`, 'm'), family);
    }
    const { code, output } = await promtoolCheck(text);
    assert.equal(code, 0, output);
  });
});
