/** The resolver: /etc/hosts first, localhost, search domains, codes kept apart, and cancellable. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DnsError, resolveHost, type ResolverConfig } from '../../src/dns/resolver.js';
import { parseHosts, parseResolvConf } from '../../src/dns/hosts-file.js';
import { runProbe } from '../../src/probe/run-probe.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { startFakeDns, type FakeDns } from '../fakes/fake-dns.js';

let dir: string;
let answering: FakeDns;
let hung: FakeDns;
let servfail: FakeDns;
let config: (dns: FakeDns, search?: string) => ResolverConfig;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-dns-'));
  await writeFile(join(dir, 'hosts'), '# test\n127.0.0.7 Mail.Example.Test mail\n::1 six.test\n');
  await writeFile(join(dir, 'resolv-plain.conf'), 'nameserver 127.0.0.1\n');
  await writeFile(join(dir, 'resolv-search.conf'), 'search corp.test\noptions ndots:1\n');
  answering = await startFakeDns({ answers: { 'imap.test': '127.0.0.9', 'imap.corp.test': '127.0.0.10' } });
  hung = await startFakeDns({ hang: true });
  servfail = await startFakeDns({ rcode: 2 });
  config = (dns, search = 'plain') => ({ servers: [dns.server], hostsFile: join(dir, 'hosts'), resolvConf: join(dir, `resolv-${search}.conf`) });
});

after(async () => {
  await Promise.all([answering, hung, servfail].map((dns) => dns?.close()));
  await rm(dir, { recursive: true, force: true });
});

const never = new AbortController().signal;

describe('resolveHost', () => {
  it('answers from the hosts file first, case-insensitively, without asking DNS', async () => {
    assert.equal(await resolveHost('mail.example.test', never, config(hung)), '127.0.0.7');
    assert.equal(await resolveHost('six.test', never, config(hung)), '::1');
    assert.equal(await resolveHost('localhost', never, { ...config(hung), hostsFile: join(dir, 'missing') }), '127.0.0.1');
    assert.equal(hung.queries, 0);
  });

  it('asks DNS for A (AAAA when there is no A), with the search list as getaddrinfo applies it', async () => {
    assert.equal(await resolveHost('imap.test', never, config(answering)), '127.0.0.9');
    assert.equal(await resolveHost('imap', never, config(answering, 'search')), '127.0.0.10', 'a short name gets the search domain');
    assert.equal(await resolveHost('imap.test.', never, config(answering, 'search')), '127.0.0.9', 'a trailing dot is absolute');
  });

  it('keeps the codes apart: no such name, server failure, no answer', async () => {
    await assert.rejects(resolveHost('nothing.test', never, config(answering)), (error) => error instanceof DnsError && error.code === 'ENOTFOUND' && error.hostname === 'nothing.test');
    await assert.rejects(resolveHost('broken.test', never, config(servfail)), (error) => error instanceof DnsError && error.code === 'ESERVFAIL');
    const controller = new AbortController();
    const pending = resolveHost('hung.test', controller.signal, config(hung));
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, (error) => (error as NodeJS.ErrnoException).code === 'ECANCELLED', 'the abort cancels the query at once');
  });
});

describe('the resolve stage', () => {
  const probe = (host: string, dns: FakeDns) =>
    runProbe({ target: 't', host, port: 1, tls: 'none', tlsConfig: { insecureSkipVerify: false }, timeoutMs: 2000 }, { resolver: config(dns) });

  it('fails with dns_error, the resolver code first in the detail', async () => {
    assert.deepEqual(pick(await probe('nothing.test', answering)), { stage: 'resolve', reason: 'dns_error', detail: 'ENOTFOUND: nothing.test' });
    assert.deepEqual(pick(await probe('broken.test', servfail)), { stage: 'resolve', reason: 'dns_error', detail: 'ESERVFAIL: broken.test' });
  });
});

function pick(result: ProbeResult) {
  const { stage, reason, detail } = result.failure ?? {};
  return { stage, reason, detail };
}

describe('parsing', () => {
  it('hosts: comments, several names, both families', () => {
    const table = parseHosts('127.0.0.1 localhost loopback # x\n# 10.0.0.1 hidden\n::1 localhost\nnot-an-ip foo\n');
    assert.deepEqual(table.get('localhost'), ['127.0.0.1', '::1']);
    assert.deepEqual(table.get('loopback'), ['127.0.0.1']);
    assert.equal(table.get('hidden'), undefined);
    assert.equal(table.get('foo'), undefined);
  });

  it('resolv.conf: search (the last of search/domain wins) and ndots', () => {
    assert.deepEqual(parseResolvConf('domain a.test\nsearch b.test c.test\noptions ndots:2 edns0\n'), { search: ['b.test', 'c.test'], ndots: 2 });
    assert.deepEqual(parseResolvConf(''), { search: [], ndots: 1 });
  });
});
