import { createHash } from 'node:crypto';

/**
 * A stable 48-bit hash of a job key. sha1 rather than a short FNV: keys differ only in
 * their last characters (`imap-1/user`, `imap-2/user`) and need well-mixed low bits.
 */
export function keyHash(key: string): number {
  return createHash('sha1').update(key, 'utf8').digest().readUIntBE(0, 6);
}

/** Where within each interval a job runs: hash(key) mod interval, in ms. */
export function phaseOffsetMs(key: string, intervalMs: number): number {
  return keyHash(key) % intervalMs;
}

/**
 * The first t >= fromMs with (t - offsetMs) ≡ 0 (mod intervalMs). Aligned to the epoch,
 * so a restarted exporter (or a second replica) keeps each job's phase.
 */
export function nextAlignedAt(fromMs: number, offsetMs: number, intervalMs: number): number {
  const phase = (((fromMs - offsetMs) % intervalMs) + intervalMs) % intervalMs;
  return phase === 0 ? fromMs : fromMs + intervalMs - phase;
}
