/** A server sent something we cannot accept: unparseable, oversized, or out of sequence. */
export class ImapProtocolError extends Error {
  override name = 'ImapProtocolError';
}

/** What the session knew when the connection ended under a command: a diagnosis needs it. */
export interface ClosedUnder {
  /** The command's verb, upper-cased (LOGIN, SELECT, …). */
  command: string;
  /** The last `* BYE` the server sent on this session, as `* BYE [CODE] text`. */
  bye?: string;
  /** The command was the first one after a successful LOGIN/AUTHENTICATE. */
  firstAfterLogin: boolean;
}

/**
 * The peer closed the connection (or it was reset) while we waited for it. Made on every
 * probe (the close after LOGOUT, the hand-over to TLS) and never shown with its stack,
 * which would only be the event emitter's frames: it is made without one, which saves
 * ~20 us each.
 */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  readonly under: ClosedUnder | undefined;

  constructor(message: string, options?: { cause?: unknown; under?: ClosedUnder }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.under = options?.under;
  }
}

/** A server exceeded one of our read bounds (line length, literal size, response count). */
export class ImapLimitError extends ImapProtocolError {}
