import { ImapLimitError } from './errors.js';

export interface FramingLimits {
  maxLineBytes: number;
  maxLiteralBytes: number;
}

const CR = 0x0d;
const LF = 0x0a;
// A line segment that announces a literal ends in {n} (or ~{n} for literal8); the n bytes follow the CRLF.
const LITERAL_SUFFIX = /~?\{(\d{1,20})\+?\}$/;

/**
 * Splits the server's byte stream into complete responses: a line, plus any
 * `{n}\r\n…` literals and the line text that follows them. Enforces the line and
 * literal limits before buffering more than they allow.
 */
export class ResponseFramer {
  private buffer: Buffer = Buffer.alloc(0);
  /** Where the current line segment of the pending response starts. */
  private segmentStart = 0;
  /** Where to resume looking for CRLF (never rescan bytes already scanned). */
  private scanFrom = 0;
  /** While a literal is incomplete: the offset where it ends. */
  private literalEnd: number | undefined;
  /**
   * One response may hold a literal and the line text around it, not more: without this
   * bound a chain of small literals (`{1}\r\na {1}\r\na …`) would grow without end.
   */
  private readonly maxResponseBytes: number;

  constructor(private readonly limits: FramingLimits) {
    this.maxResponseBytes = limits.maxLiteralBytes + 2 * limits.maxLineBytes;
  }

  /** Adds bytes and returns every response they complete. Throws ImapProtocolError on a limit. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const complete: Buffer[] = [];
    for (;;) {
      if (this.literalEnd !== undefined) {
        if (this.buffer.length < this.literalEnd) return complete;
        this.segmentStart = this.scanFrom = this.literalEnd;
        this.literalEnd = undefined;
      }
      const lf = this.buffer.indexOf(LF, this.scanFrom);
      if (lf === -1) {
        this.scanFrom = this.buffer.length;
        if (this.buffer.length - this.segmentStart > this.limits.maxLineBytes) {
          throw new ImapLimitError(`response line longer than ${this.limits.maxLineBytes} bytes`);
        }
        return complete;
      }
      const lineEnd = lf > this.segmentStart && this.buffer[lf - 1] === CR ? lf - 1 : lf;
      if (lineEnd - this.segmentStart > this.limits.maxLineBytes) {
        throw new ImapLimitError(`response line longer than ${this.limits.maxLineBytes} bytes`);
      }
      const literalSize = this.announcedLiteral(lineEnd);
      if (literalSize === undefined) {
        complete.push(this.buffer.subarray(0, lf + 1));
        this.buffer = this.buffer.subarray(lf + 1);
        this.segmentStart = 0;
        this.scanFrom = 0;
        continue;
      }
      // The literal's bytes are data, not lines: skip them, then the response goes on.
      this.literalEnd = lf + 1 + literalSize;
      if (this.literalEnd > this.maxResponseBytes) {
        throw new ImapLimitError(`response longer than ${this.maxResponseBytes} bytes`);
      }
    }
  }

  /** Bytes received but not yet part of a complete response (used to spot data sent ahead of TLS). */
  pendingBytes(): number {
    return this.buffer.length;
  }

  private announcedLiteral(lineEnd: number): number | undefined {
    // Only the tail of the segment can hold {n}; avoid decoding a whole 64 KiB line.
    const tailStart = Math.max(this.segmentStart, lineEnd - 24);
    const tail = this.buffer.toString('latin1', tailStart, lineEnd);
    const match = LITERAL_SUFFIX.exec(tail);
    if (!match) return undefined;
    const size = Number(match[1]);
    if (!Number.isSafeInteger(size) || size > this.limits.maxLiteralBytes) {
      throw new ImapLimitError(`literal of ${match[1]} bytes exceeds the limit of ${this.limits.maxLiteralBytes}`);
    }
    return size;
  }
}
