import { availableParallelism, hostname as osHostname } from 'node:os';
import { parseArgs } from 'node:util';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log.js';
import { UNSHARDED, type Shard } from '../scheduler/shard.js';

export interface DaemonFlags {
  configFile: string;
  listen: { host?: string; port: number };
  logLevel: LogLevel;
  logFormat: LogFormat;
  probeConcurrency: number;
  /** exporter-toolkit's web configuration (TLS, basic auth, headers); undefined: plain HTTP, open. */
  webConfigFile?: string;
  /** --dns.server (repeatable): resolve with these instead of /etc/resolv.conf's. */
  dnsServers: string[];
  /** --web.max-connections; undefined: half the soft fd limit, at most 1024. */
  webMaxConnections?: number;
  /** --config.max-size in bytes; undefined: the loader's default (4 MiB). */
  configMaxBytes?: number;
  /** --shard.index/--shard.count (or --shard.from-hostname): which share of the config's jobs this replica runs. */
  shard: Shard;
}

export class FlagError extends Error {}

export const DAEMON_USAGE = `usage: imap_exporter [--config.file=config/imap-exporter.yaml] [--web.listen-address=:10043] [--web.config.file=FILE]
                     [--config.max-size=4MiB] [--log.level=info] [--log.format=json|logfmt|pretty] [--probe.concurrency=N]
                     [--dns.server=HOST[:PORT]]... [--web.max-connections=N]
                     [--shard.count=N (--shard.index=I | --shard.from-hostname)]
       imap_exporter config check [--config.max-size=4MiB] FILE
       imap_exporter check HOST[:PORT] [flags]   (imap_exporter check --help)
       imap_exporter healthcheck [--web.listen-address=…] [--web.config.file=…]   (the container's HEALTHCHECK)`;

/** Relative to the working directory, as Prometheus's own `prometheus.yml` default is. */
export const DEFAULT_CONFIG_FILE = 'config/imap-exporter.yaml';

// Each job's owner is chosen by scoring it once per shard: keep that loop small.
const MAX_SHARDS = 1000;

// Probes mostly wait on the network; this many in flight costs little and keeps 1,000s of jobs on time.
const DEFAULT_CONCURRENCY = Math.max(32, availableParallelism() * 32);

/**
 * The daemon's flags, Prometheus style (`--config.file=…`). Throws FlagError naming the bad flag.
 * `hostname` is asked only for --shard.from-hostname.
 */
export function parseDaemonFlags(args: string[], hostname: () => string = currentHostname): DaemonFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        'config.file': { type: 'string', default: DEFAULT_CONFIG_FILE },
        'config.max-size': { type: 'string' },
        'web.listen-address': { type: 'string', default: ':10043' },
        'web.config.file': { type: 'string' },
        'log.level': { type: 'string', default: 'info' },
        'log.format': { type: 'string', default: 'json' },
        'probe.concurrency': { type: 'string', default: String(DEFAULT_CONCURRENCY) },
        'dns.server': { type: 'string', multiple: true },
        'web.max-connections': { type: 'string' },
        'shard.index': { type: 'string' },
        'shard.count': { type: 'string', default: '1' },
        'shard.from-hostname': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new FlagError((error as Error).message);
  }
  const level = values['log.level'];
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new FlagError(`--log.level="${level}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const format = values['log.format'];
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new FlagError(`--log.format="${format}": expected one of ${LOG_FORMATS.join(', ')}`);
  }
  const concurrencyText = values['probe.concurrency'];
  const concurrency = Number(concurrencyText);
  if (!/^\d+$/.test(concurrencyText) || concurrency < 1 || concurrency > 100_000) {
    throw new FlagError(`--probe.concurrency="${concurrencyText}": expected a whole number from 1 to 100000`);
  }
  return {
    configFile: values['config.file'],
    listen: parseListenAddress(values['web.listen-address']),
    logLevel: level as LogLevel,
    logFormat: format as LogFormat,
    probeConcurrency: concurrency,
    ...(values['web.config.file'] ? { webConfigFile: values['web.config.file'] } : {}),
    dnsServers: values['dns.server'] ?? [],
    ...maxConnections(values['web.max-connections']),
    ...configMaxSize(values['config.max-size']),
    shard: parseShard(values['shard.index'], values['shard.count'], values['shard.from-hostname'], hostname),
  };
}

// Parsing holds ~65-70 times the file's size in heap (measured at 1 and 4 MiB): beyond 12 MiB the loader's 1 GiB would not do.
const CONFIG_MAX_SIZE_LIMIT = 12 * 1024 * 1024;
const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 * 1024 };

/** `--config.max-size=8MiB` (B, KiB, MiB; a bare number is bytes). */
export function configMaxSize(text: string | undefined): { configMaxBytes?: number } {
  if (text === undefined) return {};
  const match = /^(\d+)(B|KiB|MiB)?$/.exec(text);
  const bytes = match ? Number(match[1]) * SIZE_UNITS[match[2] ?? '']! : NaN;
  if (!(bytes >= 1024 && bytes <= CONFIG_MAX_SIZE_LIMIT)) {
    throw new FlagError(`--config.max-size="${text}": expected a size from 1KiB to 12MiB, e.g. 8MiB (units B, KiB, MiB)`);
  }
  return { configMaxBytes: bytes };
}

/** Kubernetes sets $HOSTNAME to the pod's name; the kernel's host name is the same there. */
function currentHostname(): string {
  return process.env.HOSTNAME || osHostname();
}

function parseShard(indexText: string | undefined, countText: string, fromHostname: boolean, hostname: () => string): Shard {
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > MAX_SHARDS) {
    throw new FlagError(`--shard.count="${countText}": expected a whole number from 1 to ${MAX_SHARDS}`);
  }
  if (fromHostname && indexText !== undefined) {
    throw new FlagError('--shard.index and --shard.from-hostname exclude each other: give the index, or let the host name give it');
  }
  if (fromHostname) return { index: ordinalOf(hostname(), count), count };
  if (indexText === undefined) {
    if (count === 1) return UNSHARDED;
    // Replicas that all defaulted to 0 would each run shard 0, and the other shards' jobs nobody.
    throw new FlagError(`--shard.count=${count} needs --shard.index=I or --shard.from-hostname: which of the ${count} shards is this replica?`);
  }
  const index = Number(indexText);
  if (!/^\d+$/.test(indexText)) throw new FlagError(`--shard.index="${indexText}": expected a whole number from 0 to ${count - 1}`);
  if (index >= count) {
    throw new FlagError(`--shard.index=${indexText} is not below --shard.count=${count}: shard indexes run from 0 to ${count - 1}`);
  }
  return { index, count };
}

/** The ordinal a StatefulSet puts at the end of its pods' names: `imap-exporter-2` → 2. */
function ordinalOf(name: string, count: number): number {
  const digits = /-(\d+)$/.exec(name)?.[1];
  if (digits === undefined) {
    throw new FlagError(
      `--shard.from-hostname: the host name ${JSON.stringify(name)} does not end in -<ordinal> as a StatefulSet pod's does (imap-exporter-0, -1, …); pass --shard.index instead`,
    );
  }
  const index = Number(digits);
  if (index >= count) {
    throw new FlagError(
      `--shard.from-hostname: the host name ${JSON.stringify(name)} gives shard index ${digits}, not below --shard.count=${count}: set --shard.count to the StatefulSet's replicas`,
    );
  }
  return index;
}

function maxConnections(text: string | undefined): { webMaxConnections?: number } {
  if (text === undefined) return {};
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new FlagError(`--web.max-connections="${text}": expected a whole number of at least 1`);
  return { webMaxConnections: value };
}

/** `:10043` (every interface), `127.0.0.1:10043`, `[::1]:10043`, `localhost:10043`. */
export function parseListenAddress(text: string): { host?: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new FlagError(`--web.listen-address="${text}": expected [HOST]:PORT, e.g. :10043 or 127.0.0.1:10043`);
  }
  const host = match[1] ?? match[2];
  return host ? { host, port } : { port };
}
