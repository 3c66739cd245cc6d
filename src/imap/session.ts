import type { Socket } from 'node:net';
import type { ProbeLimits } from '../probe/types.js';
import { ImapConnection } from './connection.js';
import { ImapLimitError, ImapProtocolError } from './errors.js';
import type { ImapResponse } from './parser.js';

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

/**
 * Tags, one command at a time, and the responses that belong to it. A tagged
 * reply with a tag we did not send is desynchronisation and fails the session.
 */
export class ImapSession {
  private connection: ImapConnection;
  private tagCounter = 0;
  /** The server said `* BYE`: a close that follows is expected, not a failure. */
  byeReceived = false;

  constructor(
    socket: Socket,
    private readonly limits: ProbeLimits,
    private readonly record: Recorder,
  ) {
    this.connection = this.open(socket);
  }

  get socket(): Socket {
    return this.connection.socket;
  }

  /** Reads one response outside a command: the greeting. */
  readResponse(): Promise<ImapResponse> {
    return this.connection.read();
  }

  async command(text: string, options: CommandOptions = {}): Promise<CommandResult> {
    const tag = `a${++this.tagCounter}`;
    this.send(`${tag} ${text}`, options.redactedAs && `${tag} ${options.redactedAs}`);
    const untagged: ImapResponse[] = [];
    for (;;) {
      const response = await this.connection.read();
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
      if (response.kind === 'BYE') this.byeReceived = true;
      untagged.push(response);
    }
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
