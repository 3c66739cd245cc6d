import type { TlsFacts } from './types.js';

/**
 * TLS sessions kept for resumption (opt-in, `tls_config.session_resumption`), one per
 * server identity. A resumed handshake presents no certificate, so each session keeps
 * the facts of the full handshake it descends from, and that handshake's time: once
 * it is older than the configured interval the next probe does a full handshake and
 * looks at the certificate again, so the certificate metrics are never older than that.
 */
export interface KeptSession {
  session: Buffer;
  fullHandshakeAt: number;
  /** The certificate facts of that full handshake (version and cipher are read per handshake). */
  facts: Omit<TlsFacts, 'version' | 'cipher' | 'resumedFrom'>;
}

/** More than any one process probes (a target's identity is one entry); /probe of ad-hoc names cannot grow it past this. */
const MAX_KEPT = 50_000;

export class TlsSessionCache {
  readonly #kept = new Map<string, KeptSession>();

  constructor(private readonly maxKept = MAX_KEPT) {}

  /** The session to offer, unless its full handshake is `maxAgeMs` old (then it is dropped). */
  resumable(key: string, maxAgeMs: number, now: number): KeptSession | undefined {
    const kept = this.#kept.get(key);
    if (kept && now - kept.fullHandshakeAt < maxAgeMs) return kept;
    this.#kept.delete(key);
    return undefined;
  }

  keep(key: string, kept: KeptSession): void {
    // Re-inserted, so the Map's order is least recently kept first: the one evicted.
    this.#kept.delete(key);
    this.#kept.set(key, kept);
    if (this.#kept.size > this.maxKept) this.#kept.delete(this.#kept.keys().next().value as string);
  }

  forget(key: string): void {
    this.#kept.delete(key);
  }

  get size(): number {
    return this.#kept.size;
  }
}

export const tlsSessions = new TlsSessionCache();

/** Who the session was made with and how it was verified: a session is resumed only for the same. */
export function sessionKey(host: string, port: number, verifyName: string, caFile: string | undefined, insecure: boolean): string {
  return JSON.stringify([host, port, verifyName, caFile ?? null, insecure]);
}
