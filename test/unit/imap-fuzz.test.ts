// Whatever bytes a server sends, the reader either yields responses or throws
// ImapProtocolError: never another exception, never a hang. Seeded, so repeatable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListData } from '../../src/imap/commands/list.js';
import { ImapProtocolError } from '../../src/imap/errors.js';
import { ResponseFramer } from '../../src/imap/framing.js';
import { parseResponse } from '../../src/imap/parser.js';
import { decodeModifiedUtf7 } from '../../src/imap/utf7.js';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  '* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n',
  '* LIST (\\HasNoChildren) "." "INBOX.Drafts"\r\n',
  '* LIST (\\Noselect \\HasChildren) "." {18}\r\n#shared.postmaster\r\n',
  'a4 OK [READ-WRITE] Select completed.\r\n',
  '* 3 EXISTS\r\n* OK [UIDVALIDITY 1796003399] UIDs valid\r\n',
  '+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n',
  '* LIST () "/" Entw&APw-rfe\r\n',
];
const ALPHABET = Buffer.from('*+ ()[]{}"\\\r\n0123456789aAOKNOBAD~&-.%');

function mutate(random: () => number, input: Buffer): Buffer {
  const bytes = [...input];
  const edits = 1 + Math.floor(random() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const choice = random();
    const byte = random() < 0.7 ? ALPHABET[Math.floor(random() * ALPHABET.length)]! : Math.floor(random() * 256);
    if (choice < 0.4) bytes.splice(at, 0, byte);
    else if (choice < 0.7) bytes.splice(at, 1);
    else bytes[Math.min(at, bytes.length - 1)] = byte;
  }
  return Buffer.from(bytes);
}

function feed(input: Buffer, random: () => number): void {
  const framer = new ResponseFramer({ maxLineBytes: 256, maxLiteralBytes: 64 });
  let offset = 0;
  while (offset < input.length) {
    const size = 1 + Math.floor(random() * 16);
    for (const frame of framer.push(input.subarray(offset, offset + size))) {
      const response = parseResponse(frame);
      if (response.kind === 'LIST') parseListData(response.data);
    }
    offset += size;
  }
}

describe('IMAP reader fuzzing', () => {
  it('mutated real responses, fed in random chunks: responses or ImapProtocolError only', () => {
    const random = prng(20261130);
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const seed = Buffer.from(SEEDS[i % SEEDS.length]!);
      const input = mutate(random, seed);
      try {
        feed(input, random);
      } catch (error) {
        if (!(error instanceof ImapProtocolError)) {
          assert.fail(`input ${JSON.stringify(input.toString('latin1'))} threw ${String(error)}`);
        }
        rejected++;
      }
    }
    // Sanity: the mutations do produce both accepted and rejected inputs.
    assert.ok(rejected > 1000 && rejected < 19_000, `rejected ${rejected}`);
  });

  it('random bytes: responses or ImapProtocolError only', () => {
    const random = prng(42);
    for (let i = 0; i < 5_000; i++) {
      const input = Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
      try {
        feed(input, random);
      } catch (error) {
        if (!(error instanceof ImapProtocolError)) assert.fail(`threw ${String(error)}`);
      }
    }
  });

  it('modified UTF-7 decoding never throws', () => {
    const random = prng(7);
    for (let i = 0; i < 5_000; i++) {
      const text = Array.from({ length: Math.floor(random() * 20) }, () => String.fromCharCode(ALPHABET[Math.floor(random() * ALPHABET.length)]!)).join('');
      assert.equal(typeof decodeModifiedUtf7(`&${text}-`), 'string');
    }
  });
});
