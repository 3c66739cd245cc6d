import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log.js';

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
}

export class FlagError extends Error {}

export const DAEMON_USAGE = `usage: imap_exporter [--config.file=config/imap-exporter.yaml] [--web.listen-address=:10043] [--web.config.file=FILE]
                     [--config.max-size=4MiB] [--log.level=info] [--log.format=json|logfmt|pretty] [--probe.concurrency=N]
                     [--dns.server=HOST[:PORT]]... [--web.max-connections=N]
       imap_exporter config check [--config.max-size=4MiB] FILE
       imap_exporter check HOST[:PORT] [flags]   (imap_exporter check --help)
       imap_exporter healthcheck [--web.listen-address=…] [--web.config.file=…]   (the container's HEALTHCHECK)`;

/** Relative to the working directory, as Prometheus's own `prometheus.yml` default is. */
export const DEFAULT_CONFIG_FILE = 'config/imap-exporter.yaml';

// Probes mostly wait on the network; this many in flight costs little and keeps 1,000s of jobs on time.
const DEFAULT_CONCURRENCY = Math.max(32, availableParallelism() * 32);

/** The daemon's flags, Prometheus style (`--config.file=…`). Throws FlagError naming the bad flag. */
export function parseDaemonFlags(args: string[]): DaemonFlags {
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
  };
}

// Parsing needs ~75 times the file's size in heap: beyond this the loader's 1 GiB would not do.
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
