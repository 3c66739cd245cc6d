/**
 * The exporter's CPU per probe next to blackbox_exporter's for the same IMAP dialogue,
 * against a real Dovecot on loopback (started by the test fixture: run as root with
 * dovecot-imapd installed) and Debian's prometheus-blackbox-exporter. Both run as
 * daemons and are driven through their /probe endpoints by this process, in interleaved
 * rounds (which goes first alternates); each round reads the process's utime+stime from
 * /proc before and after, so only that daemon's own CPU is counted (not Dovecot's, not
 * this client's). Prints CPU ms per probe (median and range over rounds), the ratio, and
 * RSS after the runs; checks that every probe succeeded. Asserts nothing.
 * The login dialogue runs twice for the exporter: every handshake full (the default),
 * and with `tls_config.session_resumption` (blackbox_exporter has no such option, so its
 * side is the same full-handshake probe). Dovecot runs one shared imap-login process,
 * the only way it can resume a session, for every dialogue and both daemons.
 *   npm run build && node dist/bench/vs-blackbox.js [probes per daemon and dialogue] [--cpu-prof=DIR] [--baseline=MAIN_JS]
 * --cpu-prof=DIR runs the exporter daemon under `node --cpu-prof`, its profile written to DIR.
 * --baseline=MAIN_JS adds a second exporter daemon from another build (e.g. a worktree of
 * main: /path/dist/src/main.js) to the same rounds, for a before/after of a change.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startDovecot, type DovecotServer } from '../test/fixtures/dovecot.js';
import { freePort } from '../test/fixtures/ports.js';

const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';
const MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url));
const ARGS = process.argv.slice(2);
const PROBES = Number(ARGS.find((arg) => !arg.startsWith('--')) ?? 400);
const flag = (name: string) => ARGS.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const PROFILE_DIR = flag('cpu-prof');
const BASELINE = flag('baseline');
const ROUNDS = 8;
// Below Dovecot's mail_max_userip_connections (10): one daemon is driven at a time.
const CONCURRENCY = 4;
const WARM_UP = 20;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

interface Daemon {
  name: string;
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** One dialogue as each daemon is asked for it, and how its answer says it succeeded. */
interface Dialogue {
  name: string;
  blackbox: string;
  blackboxSends: string[];
  /** The /probe path worker `i` asks imap_exporter for. */
  exporter: (worker: number) => string;
}

/** Probe requests sent per dialogue, to hold against Dovecot's log. */
const requests: Record<string, number> = {};

const SUCCESS = {
  blackbox: /^probe_success (\S+)$/m,
  exporter: /^imap_probe_success(?:\{[^}]*\})? (\S+)$/m,
};

/** What blackbox_exporter is told to send after the greeting, as the exporter sends it to Dovecot. */
function blackboxCommands(dovecot: DovecotServer): { login: string[]; starttls: string[] } {
  const { username, password } = dovecot.accounts.alice;
  return {
    login: ['CAPABILITY', `LOGIN "${username}" "${password}"`, 'SELECT "INBOX"', 'GETQUOTAROOT "INBOX"', 'NAMESPACE', 'LIST "" "*"', 'LOGOUT'],
    starttls: ['CAPABILITY', 'LOGOUT'],
  };
}

/**
 * The tcp prober's query_response: greeting, STARTTLS, the handshake, then one send and
 * one expect per command (`send` gets "\n" appended, so "\r" makes CRLF). An `expect`
 * reads lines until its regexp matches: the untagged responses are skipped and the
 * tagged OK is what is checked.
 */
function blackboxConfig(dovecot: DovecotServer): string {
  const module = (commands: string[]) => ({
    prober: 'tcp',
    timeout: '10s',
    tcp: {
      preferred_ip_protocol: 'ip4',
      tls_config: { ca_file: dovecot.caFile },
      query_response: [
        { expect: '^\\* OK ' },
        { send: 'a1 STARTTLS\r' },
        { expect: '^a1 OK ' },
        { starttls: true },
        ...commands.flatMap((command, i) => [{ send: `a${i + 2} ${command}\r` }, { expect: `^a${i + 2} OK ` }]),
      ],
    },
  });
  const commands = blackboxCommands(dovecot);
  return stringify({ modules: { imap_login: module(commands.login), imap_starttls: module(commands.starttls) } });
}

/**
 * One login and one unauthenticated target per worker: concurrent /probe requests for
 * the same job share one run (probe/on-demand.ts), which would count one IMAP session
 * for several answers. Each worker asks for its own job, one request at a time.
 */
function exporterConfig(dovecot: DovecotServer): string {
  const { host, port } = dovecot.imap;
  const workers = Array.from({ length: CONCURRENCY }, (_, i) => i);
  return stringify({
    // Scheduled runs this rarely (first one spread over the day) stay out of the rounds.
    defaults: { interval: '24h', timeout: '10s', tls_config: { ca_file: dovecot.caFile } },
    targets: [
      ...workers.map((i) => ({
        name: `dovecot-${i}`, host, port,
        accounts: [{ username: dovecot.accounts.alice.username, name: 'alice', password_file: 'alice.pw' }],
      })),
      ...workers.map((i) => ({ name: `dovecot-unauth-${i}`, host, port })),
      ...workers.map((i) => ({
        name: `dovecot-resume-${i}`, host, port, tls_config: { session_resumption: '1h' },
        accounts: [{ username: dovecot.accounts.alice.username, name: 'alice', password_file: 'alice.pw' }],
      })),
    ],
  });
}

/** Starts a daemon listening where its --web.listen-address says, adds it to `started` and waits until it answers `readyPath`. */
async function startDaemon(name: string, command: string, args: string[], readyPath: string, started: Daemon[]): Promise<Daemon> {
  const url = `http://${args.find((a) => a.startsWith('--web.listen-address='))!.slice('--web.listen-address='.length)}`;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const daemon: Daemon = { name, child, url, output: () => output };
  started.push(daemon);
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(url + readyPath, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return daemon;
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${readyPath} within 15 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopDaemon(daemon: Daemon): Promise<void> {
  if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
  daemon.child.kill('SIGTERM');
  const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** utime + stime of the whole process (every thread), in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return kib ? Number(kib[1]) / 1024 : NaN;
}

/** `count` probes at CONCURRENCY; returns the failures' descriptions. */
async function drive(url: (worker: number) => string, success: RegExp, count: number): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < count) {
        next++;
        try {
          const response = await fetch(url(worker), { signal: AbortSignal.timeout(15_000) });
          const body = await response.text();
          const value = success.exec(body)?.[1];
          if (response.status !== 200 || value !== '1') failures.push(`HTTP ${response.status}, success ${value ?? 'missing'}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    }),
  );
  return failures;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.round(q * (sorted.length - 1))]!;
}

interface Side {
  daemon: Daemon;
  url: (worker: number) => string;
  success: RegExp;
  perProbe: number[];
  failures: string[];
}

function summary(side: Side): string {
  const sorted = [...side.perProbe].sort((a, b) => a - b);
  const failed = side.failures.length === 0 ? '' : `, ${side.failures.length} FAILED (first: ${side.failures[0]})`;
  return `  ${side.daemon.name.padEnd(22)} CPU ms/probe median ${quantile(sorted, 0.5).toFixed(2)} ` +
    `(p25-p75 ${quantile(sorted, 0.25).toFixed(2)}-${quantile(sorted, 0.75).toFixed(2)}, ` +
    `min-max ${sorted[0]!.toFixed(2)}-${sorted.at(-1)!.toFixed(2)}), ${side.perProbe.length} rounds${failed}`;
}

/** `a`'s CPU over `b`'s: of the medians, and the median and range of the per-round ratios. */
function ratio(a: Side, b: Side): string {
  const median = (xs: number[]) => quantile([...xs].sort((x, y) => x - y), 0.5);
  const ratios = a.perProbe.map((x, i) => x / b.perProbe[i]!).sort((x, y) => x - y);
  return `  ratio ${a.daemon.name} / ${b.daemon.name}: ${(median(a.perProbe) / median(b.perProbe)).toFixed(2)} of the medians ` +
    `(per round: median ${quantile(ratios, 0.5).toFixed(2)}, min-max ${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)})`;
}

/** Rounds of PROBES / ROUNDS probes per daemon, one daemon at a time, the order rotating each round. */
async function compare(daemons: Daemon[], dialogue: Dialogue): Promise<string[]> {
  const sides: Side[] = daemons.map((daemon) => {
    const blackbox = daemon.name === 'blackbox_exporter';
    return {
      daemon,
      url: (worker: number) => `${daemon.url}${blackbox ? dialogue.blackbox : dialogue.exporter(worker)}`,
      success: blackbox ? SUCCESS.blackbox : SUCCESS.exporter,
      perProbe: [],
      failures: [],
    };
  });
  for (const side of sides) side.failures.push(...(await drive(side.url, side.success, WARM_UP)));
  const series = await Promise.all(sides.map(async (side) => {
    const body = await (await fetch(side.url(0), { signal: AbortSignal.timeout(15_000) })).text();
    return `${side.daemon.name} ${body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length}`;
  }));
  console.log(`  series in one answer: ${series.join(', ')}`);
  const perRound = Math.max(1, Math.round(PROBES / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...sides.slice(round % sides.length), ...sides.slice(0, round % sides.length)];
    for (const side of round % 2 === 0 ? order : order.reverse()) {
      const before = await cpuMs(side.daemon.child.pid!);
      side.failures.push(...(await drive(side.url, side.success, perRound)));
      side.perProbe.push(((await cpuMs(side.daemon.child.pid!)) - before) / perRound);
    }
  }
  requests[dialogue.name] = (requests[dialogue.name] ?? 0) + sides.length * (WARM_UP + 1 + ROUNDS * perRound);
  for (const side of sides) console.log(summary(side));
  const [blackbox, ...exporters] = sides;
  for (const exporter of exporters) console.log(ratio(exporter, blackbox!));
  if (exporters.length === 2) console.log(ratio(exporters[0]!, exporters[1]!));
  return sides.flatMap((side) => side.failures.map((f) => `${side.daemon.name} ${dialogue.name}: ${f}`));
}

/**
 * One login probe through /probe's debug transcript: the commands the exporter sent,
 * and how its TLS handshake went (resumed or full). One request: Dovecot's log is
 * held against the count of requests.
 */
async function exporterDialogue(exporter: Daemon, path: string): Promise<{ sent: string; tls: string }> {
  const text = await (await fetch(`${exporter.url}${path}&debug=true`, { signal: AbortSignal.timeout(15_000) })).text();
  const sent = [...text.matchAll(/^\s*[\d.]+ms C: (\S+ .*)$/gm)].map((m) => m[1]!);
  const tlsLine = /^\s*[\d.]+ms -- (TLS TLSv.*)$/m.exec(text)?.[1];
  return {
    sent: sent.length ? sent.join(' | ') : `(no client lines found in the transcript:\n${text})`,
    tls: tlsLine === undefined
      ? '(no TLS line in the transcript)'
      : `${tlsLine.split(',')[0]}, ${tlsLine.includes('session resumed') ? 'session resumed' : 'full handshake'}`,
  };
}

try {
  await access(BLACKBOX, constants.X_OK);
} catch {
  console.error(`${BLACKBOX} not found: apt-get install prometheus-blackbox-exporter`);
  process.exit(1);
}

const dovecot = await startDovecot({ sharedLoginProcess: true });
const dir = await mkdtemp(join(tmpdir(), 'imapx-vs-blackbox-'));
const daemons: Daemon[] = [];
try {
  await writeFile(join(dir, 'blackbox.yml'), blackboxConfig(dovecot), { mode: 0o600 });
  await writeFile(join(dir, 'imap-exporter.yaml'), exporterConfig(dovecot));
  await writeFile(join(dir, 'alice.pw'), `${dovecot.accounts.alice.password}\n`, { mode: 0o600 });
  await startDaemon(
    'blackbox_exporter', BLACKBOX,
    [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${await freePort()}`],
    '/-/healthy', daemons,
  );
  const exporterArgs = [`--config.file=${join(dir, 'imap-exporter.yaml')}`, `--web.listen-address=127.0.0.1:${await freePort()}`];
  const exporter = await startDaemon(
    'imap_exporter', process.execPath,
    [...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), MAIN_JS, ...exporterArgs],
    '/-/ready', daemons,
  );
  if (BASELINE) {
    const baselineArgs = [`--config.file=${join(dir, 'imap-exporter.yaml')}`, `--web.listen-address=127.0.0.1:${await freePort()}`];
    await startDaemon('imap_exporter (baseline)', process.execPath, [BASELINE, ...baselineArgs], '/-/ready', daemons);
  }
  const version = execFileSync(BLACKBOX, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(`node ${process.version}; ${version}; Dovecot on loopback; ${PROBES} probes per daemon and dialogue in ${ROUNDS} rounds at concurrency ${CONCURRENCY}`);
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const target = `127.0.0.1:${dovecot.imap.port}`;
  const commands = blackboxCommands(dovecot);
  const dialogues: Dialogue[] = [
    {
      name: 'login probe', blackbox: `/probe?module=imap_login&target=${target}`, blackboxSends: commands.login,
      exporter: (worker) => `/probe?target=dovecot-${worker}&account=alice`,
    },
    {
      name: 'login probe, TLS session resumed', blackbox: `/probe?module=imap_login&target=${target}`, blackboxSends: commands.login,
      exporter: (worker) => `/probe?target=dovecot-resume-${worker}&account=alice`,
    },
    {
      name: 'unauthenticated STARTTLS', blackbox: `/probe?module=imap_starttls&target=${target}`, blackboxSends: commands.starttls,
      exporter: (worker) => `/probe?target=dovecot-unauth-${worker}`,
    },
  ];
  const failures: string[] = [];
  for (const dialogue of dialogues) {
    const blackboxSends = ['STARTTLS', ...dialogue.blackboxSends].map((c, i) => `a${i + 1} ${c.replace(dovecot.accounts.alice.password, '***')}`);
    console.log(`${dialogue.name}\n  imap_exporter sends:     ${(await exporterDialogue(exporter, dialogue.exporter(0))).sent}`);
    console.log(`  blackbox_exporter sends: ${blackboxSends.join(' | ')}`);
    failures.push(...(await compare(daemons, dialogue)));
    // After the rounds, when a session to resume exists if the target resumes at all.
    console.log(`  imap_exporter's TLS after the rounds: ${(await exporterDialogue(exporter, dialogue.exporter(0))).tls}`);
    requests[dialogue.name] = (requests[dialogue.name] ?? 0) + 2;
  }
  // Every answer must have been its own IMAP session: Dovecot's count against the requests.
  const log = await dovecot.readLog();
  const logins = log.match(/imap-login: Info: Login: user=<alice>/g)?.length ?? 0;
  const unauthenticated = log.match(/imap-login: Info: Disconnected: Aborted login by logging out/g)?.length ?? 0;
  const loginRequests = (requests['login probe'] ?? 0) + (requests['login probe, TLS session resumed'] ?? 0);
  console.log(
    `Dovecot saw ${logins} logins of alice for ${loginRequests} login requests (+1 by the fixture's warm-up), ` +
      `${unauthenticated} sessions logged out before login for ${requests['unauthenticated STARTTLS']} unauthenticated requests`,
  );
  const rss = await Promise.all(daemons.map(async (d) => `${d.name} ${(await rssMiB(d.child.pid!)).toFixed(0)} MiB`));
  console.log(`RSS after the runs: ${rss.join(', ')}`);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (failures.length > 0) {
    console.log(`${failures.length} probes failed:\n  ${[...new Set(failures)].slice(0, 20).join('\n  ')}`);
    for (const d of daemons) console.log(`${d.name} log tail:\n${d.output().slice(-2_000)}`);
  }
} finally {
  for (const d of daemons.reverse()) await stopDaemon(d);
  await rm(dir, { recursive: true, force: true });
  await dovecot.stop();
}
