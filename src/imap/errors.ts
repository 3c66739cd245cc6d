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

/** The peer closed the connection (or it was reset) while we waited for it. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  readonly under: ClosedUnder | undefined;

  constructor(message: string, options?: { cause?: unknown; under?: ClosedUnder }) {
    super(message, options);
    this.under = options?.under;
  }
}

/** A server exceeded one of our read bounds (line length, literal size, response count). */
export class ImapLimitError extends ImapProtocolError {}
