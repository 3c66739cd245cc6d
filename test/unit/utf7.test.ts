import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../../src/imap/utf7.js';

describe('modified UTF-7 mailbox names', () => {
  const pairs: [string, string][] = [
    ['INBOX', 'INBOX'],
    ['Entw&APw-rfe', 'Entwürfe'],
    ['&-', '&'],
    ['Tom &- Jerry', 'Tom & Jerry'],
    ['&ZeVnLIqe-', '日本語'],
    ['~peter/mail/&U,BTFw-/&ZeVnLIqe-', '~peter/mail/台北/日本語'],
    ['&2D3eAA-', '😀'],
  ];
  for (const [encoded, decoded] of pairs) {
    it(`${encoded} <-> ${decoded}`, () => {
      assert.equal(decodeModifiedUtf7(encoded), decoded);
      assert.equal(encodeModifiedUtf7(decoded), encoded);
    });
  }
  it('leaves malformed sequences as they were', () => {
    assert.equal(decodeModifiedUtf7('a&b!c-d'), 'a&b!c-d');
    assert.equal(decodeModifiedUtf7('&AP-'), '&AP-');
  });
});
