/** /etc/hosts and /etc/resolv.conf, read the bounded way and re-read only when they change. */
import { isIP } from 'node:net';
import { KIB, MIB, readBoundedFile } from '../fs/bounded-read.js';
import { cachedFile } from '../fs/cached-file.js';

export const HOSTS_FILE = '/etc/hosts';
export const RESOLV_CONF = '/etc/resolv.conf';

/** Lower-cased name → its addresses in file order. */
export type HostsTable = ReadonlyMap<string, readonly string[]>;

export function parseHosts(text: string): HostsTable {
  const table = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || isIP(address) === 0) continue;
    for (const name of names) {
      const key = name.toLowerCase();
      const list = table.get(key) ?? [];
      if (!list.includes(address)) list.push(address);
      table.set(key, list);
    }
  }
  return table;
}

export interface SearchConfig {
  /** Suffixes tried for a name with fewer than `ndots` dots (resolv.conf `search` / `domain`). */
  search: string[];
  ndots: number;
}

export function parseResolvConf(text: string): SearchConfig {
  let search: string[] = [];
  let ndots = 1;
  for (const line of text.split('\n')) {
    const [keyword, ...values] = line.replace(/[#;].*/, '').trim().split(/\s+/);
    if (keyword === 'search' || keyword === 'domain') search = values.filter(Boolean);
    if (keyword === 'options') {
      for (const option of values) {
        const match = /^ndots:(\d+)$/.exec(option);
        if (match) ndots = Math.min(15, Number(match[1]));
      }
    }
  }
  return { search, ndots };
}

const readers = new Map<string, () => Promise<unknown>>();

/** A file's parsed form, cached per path; a missing or unreadable file reads as empty text. */
function cachedParse<T>(path: string, parse: (text: string) => T, maxBytes: number): () => Promise<T> {
  let reader = readers.get(path) as (() => Promise<T>) | undefined;
  if (!reader) {
    const cached = cachedFile(path, async (file) => parse((await readBoundedFile(file, { maxBytes })).toString('utf8')));
    reader = () => cached().catch(() => parse(''));
    readers.set(path, reader);
  }
  return reader;
}

export const hostsTable = (path = HOSTS_FILE): Promise<HostsTable> => cachedParse(path, parseHosts, 4 * MIB)();
export const searchConfig = (path = RESOLV_CONF): Promise<SearchConfig> => cachedParse(path, parseResolvConf, 64 * KIB)();
