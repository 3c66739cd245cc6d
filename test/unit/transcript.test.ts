import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRANSCRIPT_HEAD_ENTRIES, TRANSCRIPT_MAX_ENTRY_CHARS, TRANSCRIPT_TAIL_ENTRIES } from '../../src/imap/limits.js';
import { formatTranscript, Transcript } from '../../src/probe/transcript.js';

describe('Transcript', () => {
  it('scrubs a registered secret and its base64 form from everything recorded', () => {
    const t = new Transcript(() => 1.5);
    t.addSecret('hunter2-secret');
    t.record('S', 'a3 BAD unknown command hunter2-secret');
    t.record('S', `+ ${Buffer.from('hunter2-secret').toString('base64')}`);
    assert.equal(t.redact('detail hunter2-secret'), 'detail ***');
    const text = formatTranscript(t.finish());
    assert.ok(!text.includes('hunter2-secret'));
    assert.ok(!text.includes(Buffer.from('hunter2-secret').toString('base64')));
    assert.match(text, /S: a3 BAD unknown command \*\*\*/);
  });

  it('scrubs a payload that contains the password whole, and what was recorded before the secret was known', () => {
    const t = new Transcript(() => 0);
    const payload = Buffer.from('\0alice\0pw-1234').toString('base64');
    t.record('S', `* OK [ALERT] ${payload} ${'x'.repeat(TRANSCRIPT_MAX_ENTRY_CHARS)} late-secret-9`);
    t.addSecret('pw-1234');
    t.addSecret(payload);
    t.addSecret('late-secret-9');
    const [entry] = t.finish();
    assert.equal(entry!.text.startsWith('* OK [ALERT] *** x'), true, entry!.text);
    assert.ok(!entry!.text.includes('late-secret'));
    assert.equal(t.redact(`\0alice\0pw-1234 ${payload}`), '*** ***', 'the decoded payload is registered too');
  });

  it('scrubs by pattern, and every string of a facts object', () => {
    const t = new Transcript(() => 0);
    t.addSecretPattern(/alice [0-9a-f]{32}/g);
    t.addSecret('hunter2-secret');
    const facts = { greeting: 'hi alice 0123456789abcdef0123456789abcdef', lists: [{ name: 'hunter2-secret' }], n: 3 };
    assert.deepEqual(t.redactDeep(facts), { greeting: 'hi ***', lists: [{ name: '***' }], n: 3 });
  });

  it('scrubs a string repeated across a facts object in every place, and a secret learnt later in the next call', () => {
    const t = new Transcript(() => 0);
    t.addSecret('hunter2-secret');
    const caps = ['IMAP4rev1', 'X-hunter2-secret', 'IDLE'];
    const facts = { before: caps, after: [...caps], login: [...caps], greeting: 'IDLE' };
    const clean = ['IMAP4rev1', 'X-***', 'IDLE'];
    assert.deepEqual(t.redactDeep(facts), { before: clean, after: clean, login: clean, greeting: 'IDLE' });
    t.addSecret('IMAP4rev1');
    assert.deepEqual(t.redactDeep(facts).after, ['***', 'X-***', 'IDLE']);
  });

  it('stays bounded, keeping the beginning and the end of a long dialogue', () => {
    const t = new Transcript(() => 0);
    const total = (TRANSCRIPT_HEAD_ENTRIES + TRANSCRIPT_TAIL_ENTRIES) * 10;
    for (let i = 0; i < total; i++) t.record('S', `line ${i} ${'x'.repeat(TRANSCRIPT_MAX_ENTRY_CHARS * 4)}`);
    const entries = t.finish();
    assert.equal(entries.length, TRANSCRIPT_HEAD_ENTRIES + 1 + TRANSCRIPT_TAIL_ENTRIES);
    assert.ok(entries.every((e) => e.text.length <= TRANSCRIPT_MAX_ENTRY_CHARS + 40));
    assert.match(entries[0]!.text, /^line 0 /);
    assert.match(entries[TRANSCRIPT_HEAD_ENTRIES]!.text, new RegExp(`^\\(${total - TRANSCRIPT_HEAD_ENTRIES - TRANSCRIPT_TAIL_ENTRIES} lines not recorded\\)$`));
    assert.match(entries.at(-1)!.text, new RegExp(`^line ${total - 1} `));
  });

  it('a short dialogue is kept whole, with no marker', () => {
    const t = new Transcript(() => 0);
    for (let i = 0; i < TRANSCRIPT_HEAD_ENTRIES + 3; i++) t.record('C', `a${i} NOOP`);
    const entries = t.finish();
    assert.equal(entries.length, TRANSCRIPT_HEAD_ENTRIES + 3);
    assert.ok(entries.every((e) => !e.text.includes('not recorded')));
  });
});
