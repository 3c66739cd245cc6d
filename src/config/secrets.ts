/**
 * Where an account's password comes from, and the one place that reads it.
 * Messages here name the file or variable, never the value (CONTRACT §5).
 */
import { inspect } from 'node:util';
import { describeFsError, KIB, readBoundedFile } from '../fs/bounded-read.js';
import { cachedFile, type CachedFileOptions } from '../fs/cached-file.js';

/** A password (or token) file larger than this is refused: no secret is that long, a log file is. */
export const PASSWORD_FILE_MAX_BYTES = 4 * KIB;

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

/** A password file's content with one trailing newline removed (`echo pw > file` adds it). */
function withoutTrailingNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

async function readPasswordText(path: string): Promise<string> {
  return withoutTrailingNewline((await readBoundedFile(path, { maxBytes: PASSWORD_FILE_MAX_BYTES })).toString('utf8'));
}

/** Names the file and the fs error code, never anything read from the file. */
function unreadable(path: string, error: unknown): Error {
  return new Error(`cannot read password file ${path}: ${describeFsError(error)}`, { cause: error });
}

async function readPasswordFile(path: string): Promise<string> {
  try {
    return await readPasswordText(path);
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** Re-reads the password file only when it changed since the last read (or changed too recently to tell). */
export function cachedFileReader(
  path: string,
  read: (path: string) => Promise<string> = readPasswordText,
  options: CachedFileOptions = {},
): () => Promise<string> {
  const cached = cachedFile(path, read, options);
  return () =>
    cached().catch((error: unknown) => {
      throw unreadable(path, error);
    });
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
export function passwordReader(
  source: PasswordSource,
  env: NodeJS.ProcessEnv,
  options: CachedFileOptions = {},
): () => Promise<string> {
  const read = source.kind === 'file' ? cachedFileReader(source.path, readPasswordText, options) : () => readOnce(source, env);
  return async () => {
    const value = await read();
    if (value === '') throw new Error(`${describeSource(source)} is empty`);
    return value;
  };
}

/**
 * passwordReader for the accounts of one config: accounts that name the same file (or
 * variable) share one reader, so one cache and at most one stat per recheck for all of
 * them, and memory for one (a reader and its cache were ~1 KB per account).
 */
export function passwordReaders(env: NodeJS.ProcessEnv): (source: PasswordSource) => () => Promise<string> {
  const shared = new Map<string, () => Promise<string>>();
  return (source) => {
    if (source.kind === 'inline') return passwordReader(source, env);
    const key = source.kind === 'file' ? `file\0${source.path}` : `env\0${source.variable}`;
    let reader = shared.get(key);
    if (reader === undefined) {
      reader = passwordReader(source, env);
      shared.set(key, reader);
    }
    return reader;
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
