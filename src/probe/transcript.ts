import { TRANSCRIPT_MAX_ENTRIES, TRANSCRIPT_MAX_ENTRY_CHARS } from '../imap/limits.js';
import type { TranscriptEntry } from './types.js';

export const REDACTED = '***';

/**
 * The probe's record of the dialogue, and the one place secrets are scrubbed.
 * Client lines that carry a secret are recorded in their redacted form by the
 * caller; on top of that every text passing through here (server lines, error
 * details) has each known secret replaced, in case a server echoes one back.
 */
export class Transcript {
  readonly entries: TranscriptEntry[] = [];
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
    if (this.entries.length >= TRANSCRIPT_MAX_ENTRIES - 1) {
      this.dropped++;
      return;
    }
    let clean = this.redact(text);
    if (clean.length > TRANSCRIPT_MAX_ENTRY_CHARS) {
      clean = `${clean.slice(0, TRANSCRIPT_MAX_ENTRY_CHARS)}… (${clean.length} chars)`;
    }
    this.entries.push({ atMs: round3(this.elapsedMs()), direction, text: clean });
  }

  /** The entries, with a closing marker when some were dropped to stay within bounds. */
  finish(): TranscriptEntry[] {
    if (this.dropped > 0) {
      this.entries.push({
        atMs: round3(this.elapsedMs()),
        direction: '-',
        text: `(${this.dropped} more lines not recorded)`,
      });
      this.dropped = 0;
    }
    return this.entries;
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
