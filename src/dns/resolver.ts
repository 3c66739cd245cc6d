/**
 * Host name → address without getaddrinfo. dns.lookup() runs getaddrinfo on libuv's thread
 * pool, cannot be cancelled, and a hung resolver holds a pool thread per name for its own
 * timeout: 200 hung names starve every other probe (and fs, and the log). Instead:
 * /etc/hosts first (as nsswitch's usual "files dns"), `localhost` as RFC 6761 says, then
 * c-ares (node:dns Resolver: non-blocking sockets on the event loop) with the servers and
 * search list of /etc/resolv.conf, A before AAAA, every query cancelled when the probe's
 * deadline passes.
 */
import { Resolver } from 'node:dns/promises';
import { hostsTable, searchConfig } from './hosts-file.js';

export interface ResolverConfig {
  /** DNS servers, `HOST` or `HOST:PORT` (`[::1]:53`); default the system's, from /etc/resolv.conf. */
  servers?: readonly string[];
  /** Default /etc/hosts. */
  hostsFile?: string;
  /** Where the search list and ndots come from; default /etc/resolv.conf. */
  resolvConf?: string;
}

/**
 * A failed lookup. `code` is c-ares's: ENOTFOUND (no such name), ENODATA (the name has no
 * address), ETIMEOUT (no answer from the resolver), ESERVFAIL, EREFUSED, ECONNREFUSED.
 */
export class DnsError extends Error {
  override readonly name = 'DnsError';

  constructor(
    readonly code: string,
    readonly hostname: string,
  ) {
    super(`${code}: ${hostname}`);
  }
}

// c-ares retries within this; the probe's deadline cancels whatever is still pending.
const TRY_TIMEOUT_MS = 1000;
const TRIES = 3;
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA']);

/** The address to connect to; rejects with DnsError, or once `signal` aborts. */
export async function resolveHost(host: string, signal: AbortSignal, config: ResolverConfig = {}): Promise<string> {
  const name = host.toLowerCase().replace(/\.$/, '');
  const fromFile = (await hostsTable(config.hostsFile)).get(name)?.[0];
  if (fromFile) return fromFile;
  if (name === 'localhost' || name.endsWith('.localhost')) return '127.0.0.1';

  let firstError: DnsError | undefined;
  for (const candidate of await candidates(host, config.resolvConf)) {
    try {
      return await query(candidate, signal, config.servers);
    } catch (error) {
      if (!(error instanceof DnsError)) throw error;
      firstError ??= error;
      // As getaddrinfo: the next search domain only when this name does not exist.
      if (!NO_SUCH_NAME.has(error.code)) throw new DnsError(error.code, host);
    }
  }
  throw new DnsError(firstError?.code ?? 'ENOTFOUND', host);
}

/** The names to ask for, in order, as the resolver library applies `search` and `ndots`. */
async function candidates(host: string, resolvConf: string | undefined): Promise<string[]> {
  if (host.endsWith('.')) return [host.slice(0, -1)];
  const { search, ndots } = await searchConfig(resolvConf);
  const searched = search.map((domain) => `${host}.${domain.replace(/\.$/, '')}`);
  const dots = host.split('.').length - 1;
  return dots >= ndots ? [host, ...searched] : [...searched, host];
}

async function query(name: string, signal: AbortSignal, servers: readonly string[] | undefined): Promise<string> {
  const resolver = new Resolver({ timeout: TRY_TIMEOUT_MS, tries: TRIES });
  if (servers && servers.length > 0) resolver.setServers([...servers]);
  const cancel = () => resolver.cancel();
  if (signal.aborted) throw new DnsError('ECANCELLED', name);
  signal.addEventListener('abort', cancel, { once: true });
  const a = resolver.resolve4(name);
  const aaaa = resolver.resolve6(name);
  // Both are awaited below or swallowed here: a late rejection must not go unhandled.
  aaaa.catch(() => undefined);
  try {
    const codes: string[] = [];
    for (const family of [a, aaaa]) {
      try {
        const addresses = await family;
        if (addresses[0]) return addresses[0];
        codes.push('ENODATA'); // answered, but no address
      } catch (error) {
        codes.push(codeOf(error));
      }
    }
    throw new DnsError(combinedCode(codes[0]!, codes[1]!), name);
  } finally {
    signal.removeEventListener('abort', cancel);
    resolver.cancel();
  }
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'ESERVFAIL';
}

/** NXDOMAIN for both is ENOTFOUND; a name with only the other family is ENODATA; else A's problem. */
function combinedCode(a: string, aaaa: string): string {
  if (a === 'ENOTFOUND' && aaaa === 'ENOTFOUND') return 'ENOTFOUND';
  if (NO_SUCH_NAME.has(a) && NO_SUCH_NAME.has(aaaa)) return 'ENODATA';
  return NO_SUCH_NAME.has(a) ? aaaa : a;
}
