/**
 * The IMAP server of bench/scale-run.ts, run as its own process so serving thousands
 * of probes a minute does not share an event loop with the bench's measurements. Plain
 * text (no TLS: a handshake per probe would make the daemon's CPU mostly TLS), with
 * the shape of test/fixtures/sample-results.ts: 12 capabilities, `*` listing 6
 * folders, `#shared.*` none. Accounts probe-a … probe-d log in with password
 * `pw`; any other login fails.
 *   node dist/bench/scale-imap-server.js
 * Prints {"port": N} and serves until stdin closes.
 */
import { startFakeImapServer, minimalImap } from '../test/fakes/fake-imap-server.js';

const CAPABILITIES = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'IDLE', 'SORT', 'THREAD=REFERENCES',
  'MULTIAPPEND', 'UNSELECT', 'AUTH=PLAIN'];

const server = await startFakeImapServer(
  minimalImap({
    capabilities: CAPABILITIES,
    users: { 'probe-a': 'pw', 'probe-b': 'pw', 'probe-c': 'pw', 'probe-d': 'pw' },
    mailboxes: { INBOX: { exists: 42, recent: 1, uidValidity: 1_600_000_000, uidNext: 43 } },
    list: {
      '*': Array.from({ length: 6 }, (_, f) => `* LIST (\\HasNoChildren) "." "F${f}"`),
      '#shared.*': [],
    },
  }),
);
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
