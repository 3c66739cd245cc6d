import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what its last full collection left, in
 * percent. V8's own factor (1.1-4×, from how fast it collects against how fast the
 * program allocates) came to ~1.7× at 10,000 jobs: ~60 MiB of RSS over a live heap of
 * ~90 MiB, most of what stood between the daemon and 300 MiB. At 1.25× the old
 * generation stayed at ~122 MiB instead of ~150, with no more probing CPU or stalls in
 * the scale bench (collections come more often, and each marks the same live heap).
 */
export const HEAP_GROWING_PERCENT = 25;

/**
 * The V8 flag the daemon sets at start, unless node was started with a growing factor of
 * its own (`node --heap-growing-percent=N`, 0 for V8's own choice). Set at run time: Node
 * refuses the flag in NODE_OPTIONS, and V8 reads it at every collection.
 */
export function heapGrowthFlag(execArgv: readonly string[]): string | undefined {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return undefined;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  const flag = heapGrowthFlag(execArgv);
  if (flag !== undefined) setFlagsFromString(flag);
}
