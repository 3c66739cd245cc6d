/**
 * Fault scripts for the fake IMAP server. Most are minimalImap with one command turned
 * bad, so everything before the fault behaves like a real server.
 */
import type { FakeConnection, FakeHandler } from './fake-imap-server.js';
import { minimalImap, replyOk, replyRefusal, type CommandHandler, type MinimalImapOptions } from './minimal-imap.js';

/** Accepts and never sends a byte: a hung server. */
export function silent(): FakeHandler {
  return (conn) => conn.closed;
}

/** Refuses the session in the greeting, then closes. */
export function byeGreeting(text = 'Too many connections'): FakeHandler {
  return (conn) => conn.write(`* BYE ${text}\r\n`);
}

/** Another protocol on the port (an SSH banner by default); waits for the client to leave. */
export function garbage(text = 'SSH-2.0-OpenSSH_9.2\r\n'): FakeHandler {
  return (conn) => {
    conn.write(text);
    return conn.closed;
  };
}

/**
 * `* OK ` followed by bytes that never end in CRLF, until the client goes away. Waits for
 * the socket to drain between chunks and pauses `intervalMs`, so it neither spins nor buffers.
 */
export function endlessLine(options: { chunkBytes?: number; intervalMs?: number } = {}): FakeHandler {
  const chunk = Buffer.alloc(options.chunkBytes ?? 16 * 1024, 'x');
  return async (conn) => {
    conn.write('* OK ');
    while (!conn.isClosed) {
      conn.write(chunk);
      await conn.waitForDrain();
      await conn.delay(options.intervalMs ?? 1);
    }
  };
}

/** Streams `size` bytes of payload with backpressure, stopping early if the client leaves. */
async function stream(conn: FakeConnection, size: number): Promise<void> {
  const chunk = Buffer.alloc(Math.min(size, 64 * 1024), 'a');
  for (let sent = 0; sent < size && !conn.isClosed; sent += chunk.length) {
    conn.write(sent + chunk.length <= size ? chunk : chunk.subarray(0, size - sent));
    await conn.waitForDrain();
  }
}

/** minimalImap, but `command` (default LIST) is answered with `* LIST () "." {size}` and that many bytes. */
export function hugeLiteral(size: number, options: MinimalImapOptions & { command?: string } = {}): FakeHandler {
  return minimalImap({
    ...options,
    overrides: {
      ...options.overrides,
      [(options.command ?? 'LIST').toUpperCase()]: async (conn, cmd) => {
        conn.write(`* LIST () "." {${size}}\r\n`);
        await stream(conn, size);
        conn.write(`\r\n${cmd.tag} OK List completed.\r\n`);
      },
    },
  });
}

/** minimalImap that drops the connection when LOGIN or AUTHENTICATE arrives. */
export function disconnectDuringLogin(options: MinimalImapOptions = {}): FakeHandler {
  const drop: CommandHandler = (conn) => conn.destroy();
  return minimalImap({ ...options, overrides: { ...options.overrides, LOGIN: drop, AUTHENTICATE: drop } });
}

/** minimalImap that answers `command` with `tag BAD …`. */
export function badTo(command: string, options: MinimalImapOptions = {}): FakeHandler {
  const bad: CommandHandler = (conn, cmd) => replyRefusal(conn, cmd.tag, { bad: `Error in IMAP command ${cmd.name}: fake refusal` });
  return minimalImap({ ...options, overrides: { ...options.overrides, [command.toUpperCase()]: bad } });
}

/** Sends `text` one byte at a time at `bytesPerSecond`, then holds the connection open. */
export function trickle(text: string, bytesPerSecond: number): FakeHandler {
  const bytes = Buffer.from(text);
  return async (conn) => {
    for (let i = 0; i < bytes.length && !conn.isClosed; i++) {
      conn.write(bytes.subarray(i, i + 1));
      await conn.delay(1000 / bytesPerSecond);
    }
    await conn.closed;
  };
}

/** minimalImap whose `command` (default LIST) gets `n` untagged lines before its tagged OK. */
export function tooManyResponses(n: number, options: MinimalImapOptions & { command?: string } = {}): FakeHandler {
  const command = (options.command ?? 'LIST').toUpperCase();
  return minimalImap({
    ...options,
    overrides: {
      ...options.overrides,
      [command]: async (conn, cmd) => {
        for (let i = 0; i < n && !conn.isClosed; i++) {
          conn.write(command === 'LIST' ? `* LIST (\\HasNoChildren) "." "folder${i}"\r\n` : `* OK filler ${i}\r\n`);
          if (i % 1000 === 999) await conn.waitForDrain();
        }
        replyOk(conn, cmd.tag, `${cmd.name} completed.`);
      },
    },
  });
}

/** minimalImap that answers `command` with `* BYE text` and closes, as Courier does when it cannot open the account. */
export function byeTo(command: string, text: string, options: MinimalImapOptions = {}): FakeHandler {
  const bye: CommandHandler = (conn) => {
    conn.write(`* BYE ${text}\r\n`);
    conn.end();
  };
  return minimalImap({ ...options, overrides: { ...options.overrides, [command.toUpperCase()]: bye } });
}
