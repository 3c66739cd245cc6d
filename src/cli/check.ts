import { parseArgs } from 'node:util';
import { parseDuration } from '../config/duration.js';
import { passwordReader } from '../config/secrets.js';
import { formatProbeReport } from '../probe/report.js';
import { runProbe } from '../probe/run-probe.js';
import { formatTranscript } from '../probe/transcript.js';
import { FOLDER_CAP, formatServerFacts } from './check-facts.js';
import type { AuthMechanism, ProbeSpec, RunProbe, TlsMode } from '../probe/types.js';

export interface CheckIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export const CHECK_USAGE = `usage: imap_exporter check HOST[:PORT]
      [--tls | --starttls | --no-tls]     default --starttls; port 993 with --tls, else 143
      [--user U (--password-file F | --password-env VAR)] [--auth login|plain|cram-md5|xoauth2]
      [--ca-file F] [--server-name N] [--insecure-skip-verify] [--allow-plaintext-auth]
      [--mailbox INBOX] [--list PATTERN]... [--min-messages N] [--min-folders N] [--timeout 10s] [--verbose]
      [--all-folders]                     every folder LIST returned (default: the first ${FOLDER_CAP} per pattern)
      [--json]                            the whole result as JSON (passwords never included)`;

class UsageError extends Error {}

const AUTH_MECHANISMS: readonly AuthMechanism[] = ['login', 'plain', 'cram-md5', 'xoauth2'];

/**
 * `imap_exporter check`: the troubleshooting walk an administrator does with
 * telnet, as one probe with a diagnosis. Exit 0 all stages passed, 1 a stage
 * failed, 2 bad usage.
 */
export async function runCheck(args: string[], io: CheckIo, probe: RunProbe = runProbe): Promise<number> {
  let parsed: CheckArgs;
  try {
    parsed = parseCheckArgs(args, io.env);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TypeError || error instanceof RangeError)) throw error;
    io.stderr(`imap_exporter check: ${error.message}\n${CHECK_USAGE}\n`);
    return 2;
  }
  const { spec, verbose, json, allFolders } = parsed;
  // Facts, failure and transcript come scrubbed of every secret by the probe: printed as they are.
  const print = io.stdout;
  const result = await probe(spec);
  if (json) {
    print(`${JSON.stringify(result, null, 2)}\n`);
    return result.success ? 0 : 1;
  }
  const who = spec.account ? `, user ${spec.account.username}` : ', no login';
  print(`imap_exporter check ${spec.host}:${spec.port} (${spec.tls}${who})\n`);
  print(`${formatProbeReport(result)}\n`);
  const facts = formatServerFacts(result.facts, { allFolders });
  if (facts !== '') print(`\nwhat the server showed:\n${facts}\n`);
  if (verbose) print(`\ntranscript (passwords and AUTHENTICATE payloads shown as ***):\n${formatTranscript(result.transcript)}\n`);
  return result.success ? 0 : 1;
}

interface CheckArgs {
  spec: ProbeSpec;
  verbose: boolean;
  json: boolean;
  allFolders: boolean;
}

function parseCheckArgs(args: string[], env: NodeJS.ProcessEnv): CheckArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      tls: { type: 'boolean' },
      starttls: { type: 'boolean' },
      'no-tls': { type: 'boolean' },
      user: { type: 'string' },
      'password-file': { type: 'string' },
      'password-env': { type: 'string' },
      auth: { type: 'string', default: 'login' },
      'ca-file': { type: 'string' },
      'server-name': { type: 'string' },
      'insecure-skip-verify': { type: 'boolean', default: false },
      'allow-plaintext-auth': { type: 'boolean', default: false },
      mailbox: { type: 'string', default: 'INBOX' },
      list: { type: 'string', multiple: true },
      'min-messages': { type: 'string' },
      'min-folders': { type: 'string' },
      timeout: { type: 'string', default: '10s' },
      verbose: { type: 'boolean', short: 'v', default: false },
      json: { type: 'boolean', default: false },
      'all-folders': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'HOST is required' : `unexpected argument "${positionals[1]}"`);
  const modes = [values.tls && 'tls', values.starttls && 'starttls', values['no-tls'] && 'none'].filter(Boolean) as TlsMode[];
  if (modes.length > 1) throw new UsageError('choose one of --tls, --starttls, --no-tls');
  const tls: TlsMode = modes[0] ?? 'starttls';
  const { host, port } = parseHostPort(positionals[0]!, tls === 'tls' ? 993 : 143);
  const auth = values.auth as AuthMechanism;
  if (!AUTH_MECHANISMS.includes(auth)) throw new UsageError(`--auth must be one of ${AUTH_MECHANISMS.join(', ')}`);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(values.timeout);
  } catch {
    throw new UsageError(`--timeout "${values.timeout}" is not a duration like 500ms, 10s, 1m`);
  }
  if (timeoutMs <= 0) throw new UsageError('--timeout must be positive');

  const spec: ProbeSpec = {
    target: host,
    host,
    port,
    tls,
    tlsConfig: { insecureSkipVerify: values['insecure-skip-verify'] },
    timeoutMs,
  };
  if (values['ca-file']) spec.tlsConfig.caFile = values['ca-file'];
  if (values['server-name']) spec.tlsConfig.serverName = values['server-name'];
  const output = { verbose: values.verbose, json: values.json, allFolders: values['all-folders'] };

  const passwordFile = values['password-file'];
  const passwordEnv = values['password-env'];
  if (values.user === undefined) {
    if (passwordFile || passwordEnv) throw new UsageError('--password-file/--password-env need --user');
    if (values['min-messages'] !== undefined || values['min-folders'] !== undefined) throw new UsageError('--min-messages/--min-folders need --user');
    return { spec, ...output };
  }
  // Expectations, as in the config: the probe fails with expectation_failed when they are not met.
  const minMessages = parseCount(values['min-messages'], '--min-messages');
  const minFolders = parseCount(values['min-folders'], '--min-folders (applies to each --list pattern)');
  if (Boolean(passwordFile) === Boolean(passwordEnv)) {
    throw new UsageError('--user needs exactly one of --password-file F or --password-env VAR');
  }
  spec.account = {
    name: values.user,
    username: values.user,
    auth,
    allowPlaintextAuth: values['allow-plaintext-auth'],
    mailbox: values.mailbox,
    ...(minMessages !== undefined && { expect: { minMessages } }),
    list: (values.list ?? ['*']).map((pattern) => ({ reference: '', pattern, ...(minFolders !== undefined && { expect: { minFolders } }) })),
    password: passwordReader(passwordFile ? { kind: 'file', path: passwordFile } : { kind: 'env', variable: passwordEnv! }, env),
  };
  return { spec, ...output };
}

function parseCount(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, 0 or more`);
  return Number(text);
}

/** HOST, HOST:PORT, [IPv6] or [IPv6]:PORT. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, portText] = text.split(':') as [string, string];
  } else {
    host = text; // a bare IPv6 address or a host name
  }
  if (host === '') throw new UsageError(`"${text}" has no host`);
  if (portText === undefined) return { host, port: defaultPort };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`"${portText}" is not a port (1-65535)`);
  return { host, port };
}
