import type { Socket } from 'node:net';
import { ImapConnection } from './connection.js';
import { ConnectionClosedError, ImapLimitError, ImapProtocolError } from './errors.js';
import type { ImapLimits } from './limits.js';
import { describeStatus, type ImapResponse } from './parser.js';

export type Status = 'OK' | 'NO' | 'BAD';

export interface CommandResult {
  status: Status;
  tagged: ImapResponse;
  untagged: ImapResponse[];
}

export interface CommandOptions {
  /** What the transcript shows instead of the line (it carries a secret). */
  redactedAs?: string;
  /** Answers a `+` continuation; returns the line to send and its transcript form. */
  onContinuation?: (challenge: string) => { line: string; redactedAs?: string };
}

export interface Recorder {
  (direction: 'C' | 'S' | '-', text: string): void;
}

/** The server's words kept for a diagnosis: enough to quote, bounded against a chatty server. */
const MAX_NOTICES = 16;
const MAX_NOTICE_CHARS = 300;

/**
 * Tags, one command at a time, and the responses that belong to it. A tagged
 * reply with a tag we did not send is desynchronisation and fails the session.
 */
export class ImapSession {
  private connection: ImapConnection;
  private tagCounter = 0;
  /** The server said `* BYE`: a close that follows is expected, not a failure. */
  byeReceived = false;
  /**
   * Every `* BYE` and `[ALERT]` the server sent, in order, as `* BYE text` or
   * `[ALERT] text`: the words a failed stage's detail must not lose (bounded).
   */
  readonly notices: string[] = [];
  private lastBye: string | undefined;
  /** The tag number of the successful LOGIN/AUTHENTICATE, once there was one. */
  private authenticatedAt: number | undefined;

  constructor(
    socket: Socket,
    private readonly limits: ImapLimits,
    private readonly record: Recorder,
  ) {
    this.connection = this.open(socket);
  }

  get socket(): Socket {
    return this.connection.socket;
  }

  /** Reads one response outside a command: the greeting. */
  async readResponse(): Promise<ImapResponse> {
    return this.notice(await this.connection.read());
  }

  /** Called after LOGIN/AUTHENTICATE succeeded: a close in answer to the next command is then an account problem. */
  markAuthenticated(): void {
    this.authenticatedAt = this.tagCounter;
  }

  /** True while commands can still be sent and answered: no close, no error, no `* BYE`. */
  isOpen(): boolean {
    return !this.byeReceived && this.connection.isOpen();
  }

  async command(text: string, options: CommandOptions = {}): Promise<CommandResult> {
    const number = ++this.tagCounter;
    try {
      return await this.exchange(`a${number}`, text, options);
    } catch (error) {
      if (!(error instanceof ConnectionClosedError) || error.under) throw error;
      // Say which command the close answered, and keep the BYE that came before it.
      const under = { command: verb(text), firstAfterLogin: this.authenticatedAt === number - 1, ...(this.lastBye && { bye: this.lastBye }) };
      throw new ConnectionClosedError(error.message, { cause: error.cause, under });
    }
  }

  private async exchange(tag: string, text: string, options: CommandOptions): Promise<CommandResult> {
    this.send(`${tag} ${text}`, options.redactedAs && `${tag} ${options.redactedAs}`);
    const untagged: ImapResponse[] = [];
    for (;;) {
      const response = this.notice(await this.connection.read());
      if (response.tag === tag) {
        return { status: response.kind as Status, tagged: response, untagged };
      }
      if (response.tag === '+') {
        if (!options.onContinuation) throw new ImapProtocolError(`unexpected continuation request to ${verb(text)}`);
        const reply = options.onContinuation(response.text);
        this.send(reply.line, reply.redactedAs);
        continue;
      }
      if (response.tag !== '*') {
        throw new ImapProtocolError(`tagged reply "${response.tag}" to a command we did not send`);
      }
      if (untagged.length >= this.limits.maxResponsesPerCommand) {
        throw new ImapLimitError(`more than ${this.limits.maxResponsesPerCommand} responses to ${verb(text)}`);
      }
      untagged.push(response);
    }
  }

  private notice(response: ImapResponse): ImapResponse {
    const isBye = response.kind === 'BYE';
    if (!isBye && response.code?.name !== 'ALERT') return response;
    let text = isBye ? `* ${describeStatus(response)}` : `[ALERT] ${response.text}`;
    if (text.length > MAX_NOTICE_CHARS) text = `${text.slice(0, MAX_NOTICE_CHARS)}…`;
    if (isBye) {
      this.byeReceived = true;
      this.lastBye = text;
    }
    if (this.notices.length < MAX_NOTICES) this.notices.push(text);
    return response;
  }

  /** True when the server sent nothing beyond the last response (checked before a TLS upgrade). */
  isDrained(): boolean {
    return this.connection.isDrained();
  }

  /** Hands the raw socket over for a TLS upgrade; `resume` continues the session on the new socket. */
  detach(): Socket {
    return this.connection.detach();
  }

  resume(socket: Socket): void {
    this.connection = this.open(socket);
  }

  private open(socket: Socket): ImapConnection {
    return new ImapConnection(socket, this.limits, (line) => this.record('S', line), this.limits.maxResponsesPerCommand);
  }

  private send(line: string, redacted?: string): void {
    this.record('C', redacted ?? line);
    this.connection.write(line);
  }
}

function verb(commandText: string): string {
  return commandText.split(' ', 1)[0]!.toUpperCase();
}
