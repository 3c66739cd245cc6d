import { TRANSCRIPT_HEAD_ENTRIES, TRANSCRIPT_MAX_ENTRY_CHARS, TRANSCRIPT_TAIL_ENTRIES } from '../imap/limits.js';
import type { TranscriptEntry } from './types.js';

export const REDACTED = '***';

/** Stored text beyond the display size, so a secret learnt later still matches whole (passwords are at most 4 KiB, base64 ~5.5 KiB). */
const CUT_SLACK_CHARS = 8 * 1024;

interface StoredEntry extends TranscriptEntry {
  /** The length of the line as received, for the "… (N chars)" marker. */
  length: number;
}

/**
 * The probe's record of the dialogue, and the one place secrets are scrubbed.
 * Client lines that carry a secret are recorded in their redacted form by the
 * caller; on top of that every text passing through here (server lines, error
 * details, facts) has each known secret replaced, in case a server echoes one back.
 * The runner registers every secret the client may send before the connection opens,
 * so even a greeting cannot carry one out.
 */
export class Transcript {
  private readonly head: StoredEntry[] = [];
  /** The latest entries once the head is full, oldest first. */
  private tail: StoredEntry[] = [];
  /** Longest first: a short secret inside a longer one (the password in a SASL payload) must not break its match. */
  private secrets: string[] = [];
  private readonly patterns: RegExp[] = [];
  private dropped = 0;

  constructor(private readonly elapsedMs: () => number) {}

  /**
   * Registers a secret to be scrubbed from everything recorded from now on, with its base64
   * form and, when it is itself base64 (a SASL payload), the text it decodes to.
   */
  addSecret(secret: string): void {
    const forms = [secret];
    // Short secrets in base64 would scrub random text; longer ones are worth catching.
    if (secret.length >= 4) forms.push(Buffer.from(secret).toString('base64'));
    const decoded = decodedBase64(secret);
    if (decoded !== undefined) forms.push(decoded);
    const known = new Set(this.secrets);
    const added = forms.filter((form) => form.length > 0 && !known.has(form));
    if (added.length === 0) return;
    for (const form of added) known.add(form);
    this.secrets = [...known].sort((a, b) => b.length - a.length);
    // What was recorded before this secret was known is scrubbed of it too.
    for (const entry of [...this.head, ...this.tail]) entry.text = this.redact(entry.text);
  }

  /** Scrubs every match of `pattern` (global) too: for secrets known by shape, not by value. */
  addSecretPattern(pattern: RegExp): void {
    this.patterns.push(pattern);
    for (const entry of [...this.head, ...this.tail]) entry.text = this.redact(entry.text);
  }

  /**
   * Every string in `value` (a result's facts), scrubbed; the shape is kept. Facts repeat
   * their strings (each capability in three or four lists), so each distinct one is
   * scrubbed once per call.
   */
  redactDeep<T>(value: T, seen = new Map<string, string>()): T {
    if (typeof value === 'string') {
      let clean = seen.get(value);
      if (clean === undefined) seen.set(value, (clean = this.redact(value)));
      return clean as T;
    }
    if (Array.isArray(value)) return value.map((item: unknown) => this.redactDeep(item, seen)) as T;
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.redactDeep(item, seen)])) as T;
    }
    return value;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const pattern of this.patterns) out = out.replace(pattern, REDACTED);
    return out;
  }

  record(direction: TranscriptEntry['direction'], text: string): void {
    // Scrub the whole line before cutting it, so no part of a secret survives at the cut.
    // The cut to the display size waits for finish(): a secret learnt later (CRAM-MD5's
    // response) must still match across it, so stored text keeps some slack.
    let clean = this.redact(text);
    if (clean.length > TRANSCRIPT_MAX_ENTRY_CHARS + CUT_SLACK_CHARS) clean = clean.slice(0, TRANSCRIPT_MAX_ENTRY_CHARS + CUT_SLACK_CHARS);
    const entry: StoredEntry = { atMs: round3(this.elapsedMs()), direction, text: clean, length: text.length };
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
    const text = `(${dropped} lines not recorded)`;
    const marker: StoredEntry[] = dropped > 0 ? [{ atMs: tail[0]?.atMs ?? 0, direction: '-', text, length: text.length }] : [];
    return [...this.head, ...marker, ...tail].map(({ atMs, direction, text, length }) => ({
      atMs,
      direction,
      text: text.length > TRANSCRIPT_MAX_ENTRY_CHARS ? `${text.slice(0, TRANSCRIPT_MAX_ENTRY_CHARS)}… (${length} chars)` : text,
    }));
  }
}

/** The text a canonical base64 string of 8+ characters decodes to, if it is one (shorter ones match too much). */
function decodedBase64(text: string): string | undefined {
  if (text.length < 8 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes.toString('utf8') : undefined;
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
