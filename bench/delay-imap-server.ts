/**
 * A plain-text IMAP server for bench/stage-timing.ts, run as its own process so its
 * timers do not share the prober's event loop. Every answer that ends a stage waits a
 * delay chosen by the bench and says how long it really waited (`d=<ms>`, measured
 * here from the command's arrival to the write), so the bench compares the prober's
 * stage times with what the server did, not with what its timers promised.
 *   node dist/bench/delay-imap-server.js <delays ms, comma-separated, or 0>
 * Prints {"port": N} and serves until stdin closes.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startFakeImapServer, type FakeConnection, type FakeImapServer } from '../test/fakes/fake-imap-server.js';


/**
 * Waits the chosen delay after `since`, then writes `untagged` and `line` (with the real
 * wait appended) in one write: two small writes would meet Nagle's algorithm and the
 * client's delayed ACK, a 40 ms stall that belongs to neither side's timing.
 */
async function answer(conn: FakeConnection, ms: number, since: number, line: (waited: string) => string, untagged = ''): Promise<void> {
  if (ms > 0) await conn.delay(ms);
  conn.write(`${untagged}${line(`d=${(performance.now() - since).toFixed(3)}`)}\r\n`);
}

/** Serves the dialogue; `delays` (ms, comma-separated) are used in turn for each answer. */
export function startDelayServer(delays: string): Promise<FakeImapServer> {
  const waits = delays.split(',').map(Number);
  let next = 0;
  const pick = (): number => waits[next++ % waits.length] as number;
  return startFakeImapServer(async (conn) => {
  await answer(conn, pick(), performance.now(), (d) => `* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready ${d}`);
  for (;;) {
    const line = await conn.readLine();
    const at = performance.now();
    const [tag = '*', command = ''] = line.split(' ');
    switch (command.toUpperCase()) {
      case 'LOGIN':
        await answer(conn, pick(), at, (d) => `${tag} OK [CAPABILITY IMAP4rev1] logged in ${d}`);
        break;
      case 'SELECT':
        await answer(conn, pick(), at, (d) => `${tag} OK [READ-WRITE] selected ${d}`, '* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 4] x\r\n');
        break;
      case 'LIST':
        await answer(conn, pick(), at, (d) => `${tag} OK listed ${d}`, '* LIST () "." INBOX\r\n');
        break;
      case 'LOGOUT':
        await answer(conn, pick(), at, (d) => `${tag} OK logged out ${d}`, '* BYE bye\r\n');
        return;
      default:
        conn.write(`${tag} BAD unexpected\r\n`);
    }
  }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startDelayServer(process.argv[2] ?? '0');
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}
