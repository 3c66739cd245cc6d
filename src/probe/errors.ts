import type { Reason } from './reasons.js';

/** A stage failed for a known reason. The runner adds the stage; `detail` is for humans, never a label. */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';

  constructor(
    readonly reason: Reason,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/** The probe's deadline passed (or the probe was aborted) while a stage was waiting. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}
