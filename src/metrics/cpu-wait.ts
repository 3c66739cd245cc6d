import { closeSync, openSync, readSync } from 'node:fs';

/** Milliseconds the calling thread has spent runnable but not running, since it started. */
export type CpuWaitClock = () => number;

/**
 * The kernel's run-queue wait of this thread (the second field of Linux's
 * /proc/thread-self/schedstat, in ns): time the thread was ready to run while other
 * threads had the CPUs, or while a cgroup CPU limit held it back. Kept open and read
 * at offset 0, which makes the kernel write it afresh (~2 µs, no allocation but the
 * number). Undefined where there is no such file (not Linux, or schedstats off).
 */
export function openCpuWaitClock(path = '/proc/thread-self/schedstat'): { read: CpuWaitClock; close: () => void } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const buffer = Buffer.alloc(96);
  const read = (): number => {
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const fields = buffer.toString('latin1', 0, length).split(' ');
    return Number(fields[1]) / 1e6;
  };
  try {
    if (!Number.isFinite(read())) throw new Error('unexpected format');
  } catch {
    closeSync(fd);
    return undefined;
  }
  return { read, close: () => closeSync(fd) };
}
