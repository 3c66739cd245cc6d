/**
 * The one way the exporter reads a file it is pointed at (config, password, CA bundle, web
 * config): regular files only, at most `maxBytes`, and never a read that can block. The file
 * is opened with O_NONBLOCK and checked with fstat before any read, so a FIFO (whose open or
 * read would park a libuv thread until a writer comes) or a device like /dev/zero is refused
 * at once instead of wedging the thread pool or growing memory without end.
 */
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

export const KIB = 1024;
export const MIB = 1024 * KIB;

/** Why a file was refused; `code` is stable for callers, `message` names no file content. */
export class FileReadError extends Error {
  constructor(
    readonly code: 'ENOTREG' | 'EFBIG' | 'ENOCERT',
    message: string,
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

export interface BoundedReadOptions {
  /** Larger files are refused (not cut): a truncated config or certificate would mislead. */
  maxBytes: number;
}

export async function readBoundedFile(path: string, options: BoundedReadOptions): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO for reading returns at once rather than waiting for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new FileReadError('ENOTREG', `not a regular file (${kindOf(stats)})`);
    if (stats.size > options.maxBytes) throw tooLarge(options.maxBytes);
    // Read one byte past the cap: a file growing while we read is caught too.
    const buffer = Buffer.alloc(Math.min(options.maxBytes + 1, Math.max(stats.size, 0) + 1));
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > options.maxBytes) throw tooLarge(options.maxBytes);
      if (filled === buffer.length) break;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

function tooLarge(maxBytes: number): FileReadError {
  return new FileReadError('EFBIG', `larger than the limit of ${formatBytes(maxBytes)}`);
}

export function formatBytes(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} bytes`;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
  ENXIO: 'no such device (a socket or a FIFO without a writer?)',
  EMFILE: 'too many open files in the exporter',
  ENFILE: 'too many open files on the system',
};

/**
 * "no such file" from an fs error, built from its code (or our own refusal's words) so no
 * file content can leak; never "unknown error".
 */
export function describeFsError(error: unknown): string {
  if (error instanceof FileReadError) return error.message;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && FS_ERRORS[code]) return FS_ERRORS[code];
  if (code) return code;
  return error instanceof Error ? error.message : String(error);
}
