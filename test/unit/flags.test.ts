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
  });
  it('reads Prometheus-style flags', () => {
    const flags = parseDaemonFlags(['--config.file=/etc/x.yaml', '--web.listen-address', '127.0.0.1:9999', '--log.level=debug', '--log.format=pretty', '--probe.concurrency=8']);
    assert.deepEqual(flags, { configFile: '/etc/x.yaml', listen: { host: '127.0.0.1', port: 9999 }, logLevel: 'debug', logFormat: 'pretty', probeConcurrency: 8, dnsServers: [] });
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
