import { TRANSCRIPT_HEAD_ENTRIES, TRANSCRIPT_MAX_ENTRY_CHARS, TRANSCRIPT_TAIL_ENTRIES } from '../imap/limits.js';
import type { TranscriptEntry } from './types.js';

export const REDACTED = '***';

/**
 * The probe's record of the dialogue, and the one place secrets are scrubbed.
 * Client lines that carry a secret are recorded in their redacted form by the
 * caller; on top of that every text passing through here (server lines, error
 * details) has each known secret replaced, in case a server echoes one back.
 */
export class Transcript {
  private readonly head: TranscriptEntry[] = [];
  /** The latest entries once the head is full, oldest first. */
  private tail: TranscriptEntry[] = [];
  private readonly secrets = new Set<string>();
  private dropped = 0;

  constructor(private readonly elapsedMs: () => number) {}

  /** Registers a secret (and its base64 form) to be scrubbed from everything recorded from now on. */
  addSecret(secret: string): void {
    if (secret.length < 1) return;
    this.secrets.add(secret);
    // Short secrets in base64 would scrub random text; longer ones are worth catching.
    if (secret.length >= 4) this.secrets.add(Buffer.from(secret).toString('base64'));
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  record(direction: TranscriptEntry['direction'], text: string): void {
    // Scrub the whole line before cutting it, so no part of a secret survives at the cut.
    let clean = this.redact(text);
    if (clean.length > TRANSCRIPT_MAX_ENTRY_CHARS) {
      clean = `${clean.slice(0, TRANSCRIPT_MAX_ENTRY_CHARS)}… (${text.length} chars)`;
    }
    const entry: TranscriptEntry = { atMs: round3(this.elapsedMs()), direction, text: clean };
    if (this.head.length < TRANSCRIPT_HEAD_ENTRIES) {
      this.head.push(entry);
      return;
    }
    this.tail.push(entry);
    if (this.tail.length > TRANSCRIPT_TAIL_ENTRIES * 2) {
      // Trim in batches so a 10,000-line LIST costs amortised O(1) per line.
      this.dropped += this.tail.length - TRANSCRIPT_TAIL_ENTRIES;
      this.tail = this.tail.slice(-TRANSCRIPT_TAIL_ENTRIES);
    }
  }

  /** The head, a marker for what was left out, and the tail. */
  finish(): TranscriptEntry[] {
    const overflow = Math.max(0, this.tail.length - TRANSCRIPT_TAIL_ENTRIES);
    const tail = this.tail.slice(overflow);
    const dropped = this.dropped + overflow;
    const marker: TranscriptEntry[] =
      dropped > 0 ? [{ atMs: tail[0]?.atMs ?? 0, direction: '-', text: `(${dropped} lines not recorded)` }] : [];
    return [...this.head, ...marker, ...tail];
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Renders a transcript as text, one line per entry, as in `check --verbose` and /probe?debug=true. */
export function formatTranscript(entries: readonly TranscriptEntry[]): string {
  return entries
    .map((e) => `${e.atMs.toFixed(1).padStart(8)}ms ${e.direction === '-' ? '--' : e.direction + ':'} ${e.text}`)
    .join('\n');
}
