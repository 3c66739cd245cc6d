import { stat } from 'node:fs/promises';

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
    id: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
    racy: Date.now() - Number(s.mtimeMs) < RACY_MS,
  };
}

/**
 * `load(path)` again only when the file changed since the last load (or changed too
 * recently to tell); otherwise the cached value. One stat per call. fs errors pass
 * through for the caller to describe.
 */
export function cachedFile<T>(path: string, load: (path: string) => Promise<T>): () => Promise<T> {
  let cached: { version: FileVersion; value: T } | undefined;
  return async () => {
    // Taken before loading: a write racing the load changes it again, so the next call reloads.
    const version = await fileVersion(path);
    if (!cached || cached.version.racy || cached.version.id !== version.id) cached = { version, value: await load(path) };
    return cached.value;
  };
}
