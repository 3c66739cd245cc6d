import type { Cause } from './hints.js';
import type { Reason } from './reasons.js';

/**
 * A stage failed for a known reason. The runner adds the stage; `detail` is for humans,
 * never a label; `hintCause` picks the hint for this cause (hints.ts).
 */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  readonly hintCause: Cause | undefined;

  constructor(
    readonly reason: Reason,
    readonly detail: string,
    options?: { cause?: unknown; hintCause?: Cause | undefined },
  ) {
    super(detail, options);
    this.hintCause = options?.hintCause;
  }
}

/** The probe's deadline passed (or the probe was aborted) while a stage was waiting. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}
