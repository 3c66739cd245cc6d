import { stat } from 'node:fs/promises';
import { flat } from '../flat-string.js';

// File timestamps tick in jiffies: a same-size rewrite this soon after the last one may
// keep the mtime, so such a file is re-read rather than trusted (git's "racily clean").
const RACY_MS = 2_000;

interface FileVersion {
  id: string;
  racy: boolean;
}

/** Identifies one version of a file; a rotation (rewrite or symlink swap) changes it. */
async function fileVersion(path: string): Promise<FileVersion> {
  const s = await stat(path, { bigint: true });
  return {
    id: flat(`${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`), // kept per file: one string, not ten parts
    racy: Date.now() - Number(s.mtimeMs) < RACY_MS,
  };
}

/** A change is noticed within this long; until then the cached value is served with no syscall. */
export const RECHECK_MS = 1_000;

export interface CachedFileOptions {
  /** Default RECHECK_MS; 0 checks on every call. */
  recheckMs?: number;
  /** Monotonic milliseconds; injected by tests. */
  now?: () => number;
}

/**
 * `load(path)` again only when the file changed since the last load (or changed too
 * recently to tell); otherwise the cached value. At most one stat per `recheckMs`, however
 * many probes ask (concurrent callers share one check), so a login probe costs at most one
 * stat of its password file and usually none. fs errors pass through for the caller to describe.
 */
export function cachedFile<T>(path: string, load: (path: string) => Promise<T>, options: CachedFileOptions = {}): () => Promise<T> {
  const recheckMs = options.recheckMs ?? RECHECK_MS;
  const now = options.now ?? (() => performance.now());
  let cached: { version: FileVersion; value: T } | undefined;
  let checkedAt = -Infinity;
  let inFlight: Promise<T> | undefined;
  const check = async (): Promise<T> => {
    // Taken before loading: a write racing the load changes it again, so the next check reloads.
    const version = await fileVersion(path);
    if (!cached || cached.version.racy || cached.version.id !== version.id) cached = { version, value: await load(path) };
    checkedAt = now();
    return cached.value;
  };
  return () => {
    if (cached && now() - checkedAt < recheckMs) return Promise.resolve(cached.value);
    inFlight ??= check().finally(() => (inFlight = undefined));
    return inFlight;
  };
}
