/**
 * HTTP basic authentication against bcrypt hashes, as exporter-toolkit does it: an unknown
 * user is checked against a dummy hash (so a wrong user name costs the same time as a wrong
 * password), and every outcome is cached so that a scrape every 15 s does not pay ~70 ms of
 * bcrypt each time. The cache key is an HMAC under a key made at start-up, so the cache never
 * holds a password, not even hex-encoded as exporter-toolkit's does.
 */
import bcrypt from 'bcryptjs';
import { createHmac, randomBytes } from 'node:crypto';

// exporter-toolkit's dummy: a valid cost-10 hash that no password in use matches.
const DUMMY_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';
// Prometheus servers and a few people: a handful of credentials. Bounded so a client trying
// passwords cannot grow memory without end.
const CACHE_LIMIT = 100;

export interface Credentials {
  user: string;
  password: string;
}

/** `Authorization: Basic base64(user:password)` → the pair; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): Credentials | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export type Compare = (password: string, hash: string) => Promise<boolean>;

export class BasicAuthVerifier {
  readonly #compare: Compare;
  readonly #cacheKey = randomBytes(32);
  readonly #cache = new Map<string, boolean>();
  // One bcrypt at a time, as exporter-toolkit's mutex: a burst of wrong guesses queues instead of
  // stalling every other request at once.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(compare: Compare = (password, hash) => bcrypt.compare(password, hash)) {
    this.#compare = compare;
  }

  /** True when `credentials` match `users` (user → bcrypt hash). */
  async verify(users: ReadonlyMap<string, string>, credentials: Credentials): Promise<boolean> {
    const known = users.get(credentials.user);
    const hash = known ?? DUMMY_HASH;
    const key = createHmac('sha256', this.#cacheKey)
      .update(`${credentials.user.length}:${credentials.user}\0${hash}\0`)
      .update(credentials.password)
      .digest('base64');
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const run = this.#queue.then(() => this.#compare(credentials.password, hash));
    this.#queue = run.catch(() => undefined);
    const ok = known !== undefined && (await run.catch(() => false));
    this.#remember(key, ok);
    return ok;
  }

  #remember(key: string, ok: boolean): void {
    if (this.#cache.size >= CACHE_LIMIT) {
      // Evict the oldest entry (Map keeps insertion order).
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, ok);
  }
}
