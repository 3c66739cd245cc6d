import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostPort } from '../../src/cli/check.js';

describe('check HOST[:PORT]', () => {
  it('reads host names, IPv4 and bracketed IPv6, with and without a port', () => {
    assert.deepEqual(parseHostPort('imap.example.com', 143), { host: 'imap.example.com', port: 143 });
    assert.deepEqual(parseHostPort('imap.example.com:993', 143), { host: 'imap.example.com', port: 993 });
    assert.deepEqual(parseHostPort('127.0.0.1:1143', 143), { host: '127.0.0.1', port: 1143 });
    assert.deepEqual(parseHostPort('[::1]:1143', 143), { host: '::1', port: 1143 });
    assert.deepEqual(parseHostPort('[::1]', 993), { host: '::1', port: 993 });
    assert.deepEqual(parseHostPort('::1', 143), { host: '::1', port: 143 });
  });
  it('rejects bad ports and empty hosts', () => {
    for (const text of ['host:0', 'host:65536', 'host:x', 'host:', ':143', '[::1]:99999']) {
      assert.throws(() => parseHostPort(text, 143), /port|host/, text);
    }
  });
});
