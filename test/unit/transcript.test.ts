import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRANSCRIPT_MAX_ENTRIES, TRANSCRIPT_MAX_ENTRY_CHARS } from '../../src/imap/limits.js';
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

  it('stays bounded in entries and entry length', () => {
    const t = new Transcript(() => 0);
    for (let i = 0; i < TRANSCRIPT_MAX_ENTRIES * 3; i++) t.record('S', 'x'.repeat(TRANSCRIPT_MAX_ENTRY_CHARS * 4));
    const entries = t.finish();
    assert.equal(entries.length, TRANSCRIPT_MAX_ENTRIES);
    assert.ok(entries.every((e) => e.text.length <= TRANSCRIPT_MAX_ENTRY_CHARS + 40));
    assert.match(entries.at(-1)!.text, /more lines not recorded/);
  });
});
