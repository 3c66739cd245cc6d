/**
 * Which replica runs which job when the config is split over --shard.count replicas:
 * rendezvous (highest-random-weight) hashing. Each shard scores the job key with a
 * stable hash of `${shard}:${key}` and the highest score owns the job. Every replica
 * decides alone from the same config, and going from N to N+1 shards moves only the
 * jobs the new shard wins (about 1/(N+1) of them); no job moves between the old shards.
 */

export interface Shard {
  /** 0 … count-1; a StatefulSet pod's ordinal. */
  readonly index: number;
  readonly count: number;
}

export const UNSHARDED: Shard = { index: 0, count: 1 };

/** The shard (0 … count-1) that owns the job with this key; a tie goes to the lower index. */
export function shardOwning(key: string, count: number): number {
  let owner = 0;
  let best = shardScore(0, key);
  for (let shard = 1; shard < count; shard++) {
    const score = shardScore(shard, key);
    if (score > best) {
      owner = shard;
      best = score;
    }
  }
  return owner;
}

/** The jobs this shard runs, in config order; with one shard, all of them. */
export function jobsOfShard<J extends { readonly key: string }>(jobs: readonly J[], shard: Shard): J[] {
  if (shard.count === 1) return [...jobs];
  return jobs.filter((job) => shardOwning(job.key, shard.count) === shard.index);
}

/**
 * FNV-1a (32 bits) of the UTF-8 text, then murmur3's fmix32: plain FNV barely lets the
 * last bytes reach the high bits, so keys that differ only at the end (`imap-1` …
 * `imap-9`) would score alike on every shard. Both steps are fixed by their specs, so
 * replicas of different versions (mid-rollout) agree.
 */
export function shardScore(shard: number, key: string): number {
  let hash = fnv1a32(`${shard}:${key}`);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

const encoder = new TextEncoder();

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}
