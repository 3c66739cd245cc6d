/** A server sent something we cannot accept: unparseable, oversized, or out of sequence. */
export class ImapProtocolError extends Error {
  override name = 'ImapProtocolError';
}

/** The peer closed the connection (or it was reset) while we waited for it. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

/** A server exceeded one of our read bounds (line length, literal size, response count). */
export class ImapLimitError extends ImapProtocolError {}
