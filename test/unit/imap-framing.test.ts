import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImapLimitError } from '../../src/imap/errors.js';
import { ResponseFramer } from '../../src/imap/framing.js';

const limits = { maxLineBytes: 100, maxLiteralBytes: 50 };
const texts = (frames: Buffer[]) => frames.map((f) => f.toString());

describe('ResponseFramer', () => {
  it('splits lines and keeps partial ones for later', () => {
    const framer = new ResponseFramer(limits);
    assert.deepEqual(texts(framer.push(Buffer.from('* OK hi\r\na1 OK'))), ['* OK hi\r\n']);
    assert.deepEqual(texts(framer.push(Buffer.from(' done\r\n'))), ['a1 OK done\r\n']);
    assert.equal(framer.pendingBytes(), 0);
  });

  it('keeps a literal and the rest of its line in one response, even split byte by byte', () => {
    const framer = new ResponseFramer(limits);
    const input = '* LIST () "." {6}\r\na\r\nb\nc ignored-tail\r\n* 1 EXISTS\r\n';
    const frames: Buffer[] = [];
    for (const byte of Buffer.from(input)) frames.push(...framer.push(Buffer.from([byte])));
    assert.deepEqual(texts(frames), ['* LIST () "." {6}\r\na\r\nb\nc ignored-tail\r\n', '* 1 EXISTS\r\n']);
  });

  it('rejects a line over the limit before it ends', () => {
    const framer = new ResponseFramer(limits);
    assert.throws(() => framer.push(Buffer.alloc(101, 'x')), ImapLimitError);
  });

  it('rejects a completed line over the limit', () => {
    const framer = new ResponseFramer(limits);
    assert.throws(() => framer.push(Buffer.from(`* OK ${'x'.repeat(100)}\r\n`)), ImapLimitError);
  });

  it('rejects a literal announced over the limit without waiting for it', () => {
    const framer = new ResponseFramer(limits);
    assert.throws(() => framer.push(Buffer.from('* LIST () "." {51}\r\n')), /literal of 51 bytes exceeds the limit of 50/);
    const huge = new ResponseFramer(limits);
    assert.throws(() => huge.push(Buffer.from('* LIST () "." {99999999999999999999}\r\n')), ImapLimitError);
  });

  it('rejects a response that chains small literals past its total bound', () => {
    const framer = new ResponseFramer(limits);
    // Bound: one literal (50) plus two lines (2 × 100) = 250 bytes; each link is 6 bytes.
    const chain = Buffer.from('* X {1}\r\na'.repeat(10) + ' {1}\r\na'.repeat(60));
    assert.throws(() => framer.push(chain), /response longer than 250 bytes/);
  });

  it('accepts bare LF line ends', () => {
    const framer = new ResponseFramer(limits);
    assert.deepEqual(texts(framer.push(Buffer.from('* OK a\n* OK b\n'))), ['* OK a\n', '* OK b\n']);
  });
});
