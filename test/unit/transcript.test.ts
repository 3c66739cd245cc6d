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
