import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlagError, parseDaemonFlags, parseListenAddress } from '../../src/cli/flags.js';

describe('daemon flags', () => {
  it('defaults per the contract', () => {
    const flags = parseDaemonFlags([]);
    assert.equal(flags.configFile, 'config/imap-exporter.yaml');
    assert.deepEqual(flags.listen, { port: 10043 });
    assert.equal(flags.logLevel, 'info');
    assert.equal(flags.logFormat, 'json');
    assert.ok(flags.probeConcurrency >= 1);
    assert.deepEqual(flags.shard, { index: 0, count: 1 }, 'not sharded');
  });
  it('reads Prometheus-style flags', () => {
    const flags = parseDaemonFlags(['--config.file=/etc/x.yaml', '--web.listen-address', '127.0.0.1:9999', '--log.level=debug', '--log.format=pretty', '--probe.concurrency=8']);
    assert.deepEqual(flags, { configFile: '/etc/x.yaml', listen: { host: '127.0.0.1', port: 9999 }, logLevel: 'debug', logFormat: 'pretty', probeConcurrency: 8, dnsServers: [], shard: { index: 0, count: 1 } });
  });
  it('--config.max-size takes bytes, KiB or MiB', () => {
    assert.equal(parseDaemonFlags(['--config.max-size=8MiB']).configMaxBytes, 8 * 1024 * 1024);
    assert.equal(parseDaemonFlags(['--config.max-size=512KiB']).configMaxBytes, 512 * 1024);
    assert.equal(parseDaemonFlags(['--config.max-size=2048']).configMaxBytes, 2048);
    assert.equal(parseDaemonFlags([]).configMaxBytes, undefined);
  });
  it('listen addresses', () => {
    assert.deepEqual(parseListenAddress(':10043'), { port: 10043 });
    assert.deepEqual(parseListenAddress('[::1]:10043'), { host: '::1', port: 10043 });
    assert.deepEqual(parseListenAddress('localhost:1'), { host: 'localhost', port: 1 });
  });
  it('shards by --shard.index and --shard.count', () => {
    assert.deepEqual(parseDaemonFlags(['--shard.index=2', '--shard.count=3']).shard, { index: 2, count: 3 });
    assert.deepEqual(parseDaemonFlags(['--shard.index', '0', '--shard.count', '1']).shard, { index: 0, count: 1 });
  });
  it('takes the index from a StatefulSet pod name with --shard.from-hostname', () => {
    const from = (name: string, count = 3) => parseDaemonFlags(['--shard.from-hostname', `--shard.count=${count}`], () => name).shard;
    assert.deepEqual(from('imap-exporter-2'), { index: 2, count: 3 });
    assert.deepEqual(from('imap-exporter-0'), { index: 0, count: 3 });
    assert.deepEqual(from('imap-exporter-sharded-11', 12), { index: 11, count: 12 });
    assert.deepEqual(from('web-1', 1 + 1), { index: 1, count: 2 });
    // The host name is asked for only when the flag wants it.
    parseDaemonFlags(['--shard.index=1', '--shard.count=2'], () => assert.fail('hostname read without --shard.from-hostname'));
  });
  it('the host name comes from $HOSTNAME (as Kubernetes sets it), else the kernel', () => {
    const saved = process.env.HOSTNAME;
    try {
      process.env.HOSTNAME = 'imap-exporter-1';
      assert.deepEqual(parseDaemonFlags(['--shard.from-hostname', '--shard.count=2']).shard, { index: 1, count: 2 });
    } finally {
      if (saved === undefined) delete process.env.HOSTNAME;
      else process.env.HOSTNAME = saved;
    }
  });
  it('rejects bad shard flags naming the flag and the host name', () => {
    const host = (name: string) => () => name;
    for (const [args, hostname, message] of [
      [['--shard.count=0'], undefined, /--shard\.count="0": expected a whole number from 1 to 1000/],
      [['--shard.count=three', '--shard.index=0'], undefined, /--shard\.count="three"/],
      [['--shard.count=1001', '--shard.index=0'], undefined, /--shard\.count="1001"/],
      [['--shard.index=3', '--shard.count=3'], undefined, /--shard\.index=3 is not below --shard\.count=3: shard indexes run from 0 to 2/],
      [['--shard.index=1'], undefined, /--shard\.index=1 is not below --shard\.count=1/],
      [['--shard.index=-1', '--shard.count=3'], undefined, /--shard\.index="-1": expected a whole number from 0 to 2/],
      [['--shard.index=x', '--shard.count=3'], undefined, /--shard\.index="x"/],
      [['--shard.count=3'], undefined, /--shard\.count=3 needs --shard\.index=I or --shard\.from-hostname/],
      [['--shard.from-hostname', '--shard.index=1', '--shard.count=3'], host('x-1'), /--shard\.index and --shard\.from-hostname exclude each other/],
      [['--shard.from-hostname', '--shard.count=3'], host('laptop'), /--shard\.from-hostname: the host name "laptop" does not end in -<ordinal>/],
      [['--shard.from-hostname', '--shard.count=3'], host('imap-exporter-'), /the host name "imap-exporter-" does not end in -<ordinal>/],
      [['--shard.from-hostname', '--shard.count=3'], host('imap-exporter-3'), /the host name "imap-exporter-3" gives shard index 3, not below --shard\.count=3/],
      [['--shard.from-hostname'], host('imap-exporter-1'), /gives shard index 1, not below --shard\.count=1/],
      [['--shard.from-hostname=yes'], host('x-0'), /shard\.from-hostname/],
    ] as const) {
      assert.throws(
        () => parseDaemonFlags([...args], hostname),
        (error: unknown) => error instanceof FlagError && message.test(error.message),
        args.join(' '),
      );
    }
  });
  it('rejects bad input naming the flag', () => {
    for (const [args, message] of [
      [['--log.level=loud'], /--log\.level="loud"/],
      [['--log.format=xml'], /--log\.format="xml"/],
      [['--probe.concurrency=0'], /--probe\.concurrency="0"/],
      [['--probe.concurrency=many'], /--probe\.concurrency="many"/],
      [['--web.listen-address=10043'], /--web\.listen-address="10043"/],
      [['--web.listen-address=:70000'], /--web\.listen-address=":70000"/],
      [['--bogus'], /bogus/],
      [['positional'], /positional/],
      [['--config.max-size=4GB'], /--config\.max-size="4GB": expected a size from 1KiB to 12MiB/],
      [['--config.max-size=100'], /--config\.max-size="100"/],
      [['--config.max-size=64MiB'], /--config\.max-size="64MiB"/],
    ] as const) {
      assert.throws(() => parseDaemonFlags([...args]), (error: unknown) => error instanceof FlagError && message.test(error.message));
    }
  });
});
