/**
 * A scriptable in-process IMAP server for the faults a real server will not produce on
 * demand: hangs, garbage, endless lines, huge literals, dropped connections. Each accepted
 * connection is handed to a script (a handler); ready-made ones are in minimal-imap.ts and
 * scripts.ts, re-exported here so tests import from this one module.
 *
 *   const server = await startFakeImapServer(minimalImap({ users: { alice: 'pw' } }));
 *   after(() => server.close());
 *
 * When a script returns, its connection is ended (FIN); a script that wants to hold the
 * connection awaits `conn.closed`. Nothing outlives close(): sockets are destroyed and
 * every timer a script made through `conn.delay` is cleared.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';

export * from './minimal-imap.js';
export * from './scripts.js';

/** PEM text, or a path to a PEM file (so a TestPki KeyPair can be passed as is). */
export interface TlsCredentials {
  key: string;
  cert: string;
  /** Cap the protocol, e.g. TLSv1.2, whose session is handed over during the handshake. */
  maxVersion?: 'TLSv1.2';
}

export interface FakeConnection {
  /** 1-based, in accept order. */
  readonly id: number;
  readonly isTls: boolean;
  readonly isClosed: boolean;
  /** Every line (without CRLF) and literal the script consumed, in order. */
  readonly received: string[];
  /** Resolves when the socket is fully closed, whoever closed it. */
  readonly closed: Promise<void>;
  write(text: string | Buffer): void;
  /** Resolves once the socket's write buffer has drained (or the connection closed). */
  waitForDrain(): Promise<void>;
  /** Next CRLF-terminated line from the client, without CRLF; rejects once closed. */
  readLine(): Promise<string>;
  /** Exactly `count` bytes (a literal's payload); rejects once closed. */
  readBytes(count: number): Promise<Buffer>;
  /** Server side of a STARTTLS handshake; earlier writes are flushed first, unread input discarded. */
  upgradeToTls(credentials: TlsCredentials): Promise<void>;
  /** Sleeps `ms`, but wakes at once when the connection closes; the timer never outlives it. */
  delay(ms: number): Promise<void>;
  end(): void;
  destroy(): void;
  /** Aborts the TCP connection with a RST (SO_LINGER 0), under TLS too. */
  reset(): void;
}

export type FakeHandler = (conn: FakeConnection) => void | Promise<void>;

export interface FakeImapServerOptions {
  /** Implicit TLS: the handshake happens before the handler runs. */
  tls?: TlsCredentials;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface FakeImapServer {
  host: string;
  port: number;
  /** TCP connections accepted so far (including ones whose TLS handshake failed). */
  readonly connectionsAccepted: number;
  readonly connections: readonly FakeConnection[];
  /** Everything every connection consumed, in order (see FakeConnection.received). */
  readonly received: string[];
  /** Script failures other than "the connection closed" (a broken script, not a client fault). */
  readonly handlerErrors: Error[];
  openConnections(): number;
  waitForNoOpenConnections(timeoutMs: number): Promise<void>;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** What readLine/readBytes reject with once the connection is gone. */
export class ConnectionClosedError extends Error {
  constructor() {
    super('fake IMAP connection closed');
    this.name = 'ConnectionClosedError';
  }
}

/** Unread client input beyond this pauses the socket, so a flooding client cannot grow memory. */
const MAX_BUFFERED_INPUT = 1 << 20;

/** One context per credentials, as a real server has: its ticket keys let a client resume a session. */
const contexts = new WeakMap<TlsCredentials, SecureContext>();

export function secureContextFor(credentials: TlsCredentials): SecureContext {
  const pem = (value: string): string => (value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8'));
  let context = contexts.get(credentials);
  if (!context) {
    const { key, cert, maxVersion } = credentials;
    context = createSecureContext({ key: pem(key), cert: pem(cert), ...(maxVersion && { maxVersion }) });
    contexts.set(credentials, context);
  }
  return context;
}

class Connection implements FakeConnection {
  readonly received: string[] = [];
  readonly closed: Promise<void>;
  isTls = false;
  isClosed = false;
  private socket: Socket;
  private input = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  /** Pending delay()/waitForDrain() wake-ups: released on close, so loops never pile them up. */
  private readonly closeWaiters = new Set<() => void>();
  private markClosed!: () => void;

  constructor(
    readonly id: number,
    private readonly raw: Socket,
    private readonly record: (text: string) => void,
  ) {
    this.socket = raw;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    raw.on('error', () => undefined);
    raw.on('close', () => this.onClose());
    this.listen(raw);
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.input = Buffer.concat([this.input, chunk]);
      if (this.input.length > MAX_BUFFERED_INPUT) socket.pause();
      this.wakeReader();
    });
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const wake of [...this.closeWaiters]) wake();
    this.socket.destroy();
    this.raw.destroy();
    this.wakeReader();
    this.markClosed();
  }

  private wakeReader(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async waitForInput(): Promise<void> {
    if (this.isClosed) throw new ConnectionClosedError();
    if (this.input.length > MAX_BUFFERED_INPUT) {
      this.destroy();
      throw new Error(`client sent over ${MAX_BUFFERED_INPUT} bytes without a line end`);
    }
    this.socket.resume();
    await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private take(count: number, skip = 0): Buffer {
    const bytes = this.input.subarray(0, count);
    this.input = this.input.subarray(count + skip);
    return bytes;
  }

  async readLine(): Promise<string> {
    for (;;) {
      const end = this.input.indexOf('\r\n');
      if (end >= 0) {
        const line = this.take(end, 2).toString('utf8');
        this.note(line);
        return line;
      }
      await this.waitForInput();
    }
  }

  async readBytes(count: number): Promise<Buffer> {
    while (this.input.length < count) await this.waitForInput();
    const bytes = Buffer.from(this.take(count));
    this.note(bytes.toString('utf8'));
    return bytes;
  }

  private note(text: string): void {
    this.received.push(text);
    this.record(text);
  }

  write(text: string | Buffer): void {
    if (!this.isClosed && this.socket.writable) this.socket.write(text);
  }

  waitForDrain(): Promise<void> {
    if (this.isClosed || !this.socket.writableNeedDrain) return Promise.resolve();
    const socket = this.socket;
    return new Promise((resolve) => {
      const done = (): void => {
        socket.removeListener('drain', done);
        this.closeWaiters.delete(done);
        resolve();
      };
      socket.once('drain', done);
      this.closeWaiters.add(done);
    });
  }

  async upgradeToTls(credentials: TlsCredentials): Promise<void> {
    if (this.isClosed) throw new ConnectionClosedError();
    // The OK to STARTTLS must leave in plaintext before the handle changes hands.
    await new Promise<void>((resolve) => this.socket.write('', () => resolve()));
    this.raw.removeAllListeners('data');
    this.input = Buffer.alloc(0);
    const secure = new TLSSocket(this.raw, { isServer: true, secureContext: secureContextFor(credentials) });
    this.socket = secure;
    secure.on('error', () => undefined);
    secure.on('close', () => this.onClose());
    this.listen(secure);
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error): void => {
        this.closeWaiters.delete(gone);
        secure.destroy();
        reject(error);
      };
      const gone = (): void => failed(new ConnectionClosedError());
      this.closeWaiters.add(gone);
      secure.once('error', failed);
      secure.once('secure', () => {
        this.closeWaiters.delete(gone);
        secure.removeListener('error', failed);
        this.isTls = true;
        resolve();
      });
    });
  }

  delay(ms: number): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.closeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.closeWaiters.add(done);
    });
  }

  end(): void {
    if (!this.isClosed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
    this.raw.destroy();
  }

  reset(): void {
    this.raw.resetAndDestroy();
    this.socket.destroy();
  }
}

export async function startFakeImapServer(
  handler: FakeHandler,
  options: FakeImapServerOptions = {},
): Promise<FakeImapServer> {
  const host = options.host ?? '127.0.0.1';
  const connections: Connection[] = [];
  const open = new Set<Connection>();
  const received: string[] = [];
  const handlerErrors: Error[] = [];
  const idleWaiters = new Set<() => void>();

  const run = async (conn: Connection): Promise<void> => {
    try {
      if (options.tls) await conn.upgradeToTls(options.tls);
      await handler(conn);
      conn.end();
    } catch (error) {
      if (!conn.isClosed && !(error instanceof ConnectionClosedError)) {
        // A failed implicit-TLS handshake is the client's doing, not the script's.
        if (conn.isTls || !options.tls) handlerErrors.push(error as Error);
      }
      conn.destroy();
    }
  };

  const server: Server = createServer((socket) => {
    const conn = new Connection(connections.length + 1, socket, (text) => received.push(text));
    connections.push(conn);
    open.add(conn);
    void conn.closed.then(() => {
      open.delete(conn);
      if (open.size === 0) for (const wake of [...idleWaiters]) wake();
    });
    void run(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake IMAP server has no port');

  return {
    host,
    port: address.port,
    get connectionsAccepted() {
      return connections.length;
    },
    connections,
    received,
    handlerErrors,
    openConnections: () => open.size,
    waitForNoOpenConnections(timeoutMs) {
      if (open.size === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          idleWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(done);
          reject(new Error(`${open.size} fake IMAP connection(s) still open after ${timeoutMs} ms`));
        }, timeoutMs);
        idleWaiters.add(done);
      });
    },
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of connections) conn.destroy();
      await Promise.all([stopped, ...connections.map((conn) => conn.closed)]);
    },
  };
}
