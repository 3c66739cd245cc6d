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
  return owner(encoder.encode(key), prefixStates(count));
}

/** The jobs this shard runs, in config order; with one shard, all of them. */
export function jobsOfShard<J extends { readonly key: string }>(jobs: readonly J[], shard: Shard): J[] {
  if (shard.count === 1) return [...jobs];
  const prefixes = prefixStates(shard.count);
  return jobs.filter((job) => owner(encoder.encode(job.key), prefixes) === shard.index);
}

const encoder = new TextEncoder();
const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a (32 bits) of the bytes, continuing from `state` (the offset basis for a fresh hash). */
export function fnv1a32(bytes: Uint8Array | string, state = FNV_OFFSET): number {
  let hash = state;
  for (const byte of typeof bytes === 'string' ? encoder.encode(bytes) : bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** The hash state after `${shard}:` for each shard: what every key's score starts from. */
function prefixStates(count: number): number[] {
  return Array.from({ length: count }, (_, shard) => fnv1a32(`${shard}:`));
}

function owner(key: Uint8Array, prefixes: readonly number[]): number {
  let best = 0;
  let bestScore = -1;
  for (let shard = 0; shard < prefixes.length; shard++) {
    const score = fmix32(fnv1a32(key, prefixes[shard]));
    if (score > bestScore) {
      best = shard;
      bestScore = score;
    }
  }
  return best;
}

/**
 * murmur3's finalizer: plain FNV barely lets the last bytes reach the high bits, so keys
 * that differ only at the end (`imap-1` … `imap-9`) would score alike on every shard.
 * FNV-1a and fmix32 are fixed by their specs, so replicas of different versions agree.
 */
function fmix32(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
