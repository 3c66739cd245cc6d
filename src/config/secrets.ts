/**
 * Where an account's password comes from, and the one place that reads it.
 * Messages here name the file or variable, never the value (CONTRACT §5).
 */
import { readFile, stat } from 'node:fs/promises';
import { inspect } from 'node:util';

/** An inline password that prints as *** in logs, JSON and inspect(). */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '***';
  }

  toJSON(): string {
    return '***';
  }

  [inspect.custom](): string {
    return 'Secret(***)';
  }
}

export type PasswordSource =
  | { kind: 'file'; path: string }
  | { kind: 'env'; variable: string }
  | { kind: 'inline'; secret: Secret };

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
};

/** "no such file" from an fs error, built from its code so no file content can leak. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code && FS_ERRORS[code]) ?? code ?? 'unknown error';
}

/** A password file's content with one trailing newline removed (`echo pw > file` adds it). */
function withoutTrailingNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

async function readPasswordFile(path: string): Promise<string> {
  try {
    return withoutTrailingNewline(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read password file ${path}: ${describeFsError(error)}`, { cause: error });
  }
}

// File timestamps tick in jiffies: a same-size rewrite this soon after the last one may
// keep the mtime, so such a file is re-read rather than trusted (git's "racily clean").
const RACY_MS = 2_000;

interface FileVersion {
  id: string;
  racy: boolean;
}

/** Identifies one version of a file; a rotation (rewrite or symlink swap) changes it. */
async function fileVersion(path: string): Promise<FileVersion> {
  try {
    const s = await stat(path, { bigint: true });
    return {
      id: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
      racy: Date.now() - Number(s.mtimeMs) < RACY_MS,
    };
  } catch (error) {
    throw new Error(`cannot read password file ${path}: ${describeFsError(error)}`, { cause: error });
  }
}

/** Re-reads the file only when it changed since the last read (or changed too recently to tell). */
export function cachedFileReader(
  path: string,
  read: (path: string) => Promise<string> = readPasswordFile,
): () => Promise<string> {
  let cached: { version: FileVersion; value: string } | undefined;
  return async () => {
    // Taken before reading: a write racing the read changes it again, so the next call re-reads.
    const version = await fileVersion(path);
    if (!cached || cached.version.racy || cached.version.id !== version.id) cached = { version, value: await read(path) };
    return cached.value;
  };
}

function describeSource(source: PasswordSource): string {
  switch (source.kind) {
    case 'file':
      return `password file ${source.path}`;
    case 'env':
      return `environment variable ${source.variable}`;
    case 'inline':
      return 'inline password';
  }
}

function readOnce(source: PasswordSource, env: NodeJS.ProcessEnv): Promise<string> {
  switch (source.kind) {
    case 'file':
      return readPasswordFile(source.path);
    case 'env': {
      const value = env[source.variable];
      if (value === undefined) return Promise.reject(new Error(`environment variable ${source.variable} is not set`));
      return Promise.resolve(value);
    }
    case 'inline':
      return Promise.resolve(source.secret.reveal());
  }
}

/**
 * AccountSpec.password: reads the secret at call time (env vars are looked up then, files
 * re-read after a rotation), and rejects on an empty one rather than try a blank login.
 */
export function passwordReader(source: PasswordSource, env: NodeJS.ProcessEnv): () => Promise<string> {
  const read = source.kind === 'file' ? cachedFileReader(source.path) : () => readOnce(source, env);
  return async () => {
    const value = await read();
    if (value === '') throw new Error(`${describeSource(source)} is empty`);
    return value;
  };
}

/** Load-time check: `error` when the secret cannot be read now, `warning` when it is empty. */
export async function checkPasswordSource(
  source: PasswordSource,
  env: NodeJS.ProcessEnv,
): Promise<{ error?: string; warning?: string }> {
  let value: string;
  try {
    value = await readOnce(source, env);
  } catch (error) {
    return { error: (error as Error).message };
  }
  return value === '' ? { warning: `${describeSource(source)} is empty: the login stage will fail` } : {};
}
