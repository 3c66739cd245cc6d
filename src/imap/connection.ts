import type { Socket } from 'node:net';
import { ioTime } from '../io-clock.js';
import { ConnectionClosedError, ImapLimitError, ImapProtocolError } from './errors.js';
import { ResponseFramer, type FramingLimits } from './framing.js';
import { parseResponse, type ImapResponse } from './parser.js';

export interface ResponseObserver {
  /** Called with each response's text (CRLF stripped), for the transcript. */
  (line: string): void;
}

/**
 * One socket's worth of IMAP reading: frames and parses what the server sends,
 * hands responses out one at a time. Any framing/parse error or close poisons the
 * connection: every later read rejects with that error.
 */
export class ImapConnection {
  private readonly framer: ResponseFramer;
  private readonly queue: ImapResponse[] = [];
  private waiter: { resolve: (r: ImapResponse) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer) => {
    ioTime(); // before any parsing: a stage ends when its bytes came in (io-clock.ts)
    this.receive(chunk);
  };
  private readonly onEnd = () => {
    ioTime();
    this.fail(new ConnectionClosedError('the server closed the connection'));
  };
  private readonly onError = (error: NodeJS.ErrnoException) =>
    this.fail(new ConnectionClosedError(`connection error: ${error.code ?? error.message}`, { cause: error }));

  constructor(
    readonly socket: Socket,
    limits: FramingLimits,
    private readonly observe: ResponseObserver,
    /** Responses the server may send ahead of our reading them before we call it a flood. */
    private readonly maxQueued: number,
  ) {
    this.framer = new ResponseFramer(limits);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  /** The next response, in order. Rejects once the connection failed or closed. */
  read(): Promise<ImapResponse> {
    const next = this.queue.shift();
    if (next) return Promise.resolve(next);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  write(line: string): void {
    if (this.failure) throw this.failure;
    this.socket.write(`${line}\r\n`);
  }

  /** True until the connection failed, closed or was handed over. */
  isOpen(): boolean {
    return this.failure === undefined && !this.socket.destroyed;
  }

  /** True when nothing is buffered: STARTTLS must not carry bytes over from the clear-text phase. */
  isDrained(): boolean {
    return this.queue.length === 0 && this.framer.pendingBytes() === 0;
  }

  /** Stops reading this socket (before handing it to TLS) without closing it. */
  detach(): Socket {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.failure ??= new ConnectionClosedError('connection upgraded');
    return this.socket;
  }

  private receive(chunk: Buffer): void {
    if (this.failure) return;
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      this.observe(frame.toString('utf8').replace(/\r?\n$/, ''));
      try {
        this.deliver(parseResponse(frame));
      } catch (error) {
        this.fail(error instanceof ImapProtocolError ? error : new ImapProtocolError(String(error)));
        this.socket.destroy();
        return;
      }
    }
  }

  private deliver(response: ImapResponse): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve(response);
    } else if (this.queue.length >= this.maxQueued) {
      throw new ImapLimitError(`more than ${this.maxQueued} unsolicited responses`);
    } else {
      this.queue.push(response);
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}
