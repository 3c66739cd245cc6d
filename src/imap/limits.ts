/** Every bound on what a server may send us; the IMAP layer's own type, configured per target. */
export interface ImapLimits {
  maxLineBytes: number;
  maxLiteralBytes: number;
  maxResponsesPerCommand: number;
}

/** Every bound on what a server may send us, in one place so framing and parser cannot drift. */
export const DEFAULT_LIMITS: ImapLimits = {
  maxLineBytes: 64 * 1024,
  maxLiteralBytes: 1024 * 1024,
  maxResponsesPerCommand: 10_000,
};

/**
 * Transcript bounds: enough to diagnose, small enough to keep two per job for
 * thousands of jobs. A long dialogue keeps its beginning and its end (where the
 * failure is), with the middle (e.g. most of a large LIST) left out.
 */
export const TRANSCRIPT_HEAD_ENTRIES = 80;
export const TRANSCRIPT_TAIL_ENTRIES = 40;
export const TRANSCRIPT_MAX_ENTRY_CHARS = 512;

export function resolveLimits(overrides?: Partial<ImapLimits>): ImapLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
