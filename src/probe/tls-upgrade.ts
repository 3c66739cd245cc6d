import { isIP, type Socket } from 'node:net';
import type { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ioTime } from '../io-clock.js';
import type { ProbeContext } from './context.js';
import { ProbeError } from './errors.js';
import { secureContextFor } from './tls-context.js';
import { checkIdentity, peerLeaf, skipPeerCertificateObjects } from './tls-identity.js';
import { sessionKey, tlsSessions, type KeptSession } from './tls-sessions.js';
import type { TlsFacts } from './types.js';

/**
 * TLS handshake over an open socket, for implicit TLS and STARTTLS alike.
 * Verification is ours rather than Node's `rejectUnauthorized`: the handshake
 * completes, the certificate facts (expiry above all) are recorded even for a bad
 * certificate, and then an unverified chain fails the stage unless skipped.
 */
export async function upgradeToTls(ctx: ProbeContext, socket: Socket): Promise<TLSSocket> {
  const { tlsConfig, host } = ctx.spec;
  const secureContext = await secureContextFor(tlsConfig.caFile);
  const verifyName = tlsConfig.serverName ?? host;
  const resumption = tlsConfig.sessionResumptionMs;
  const key = resumption === undefined ? undefined : sessionKey(host, ctx.spec.port, verifyName, tlsConfig.caFile, tlsConfig.insecureSkipVerify);
  const offered = key === undefined ? undefined : tlsSessions.resumable(key, resumption ?? 0, Date.now());
  const tlsSocket: TLSSocket = tlsConnect({
    socket,
    host: verifyName,
    // SNI carries host names only, never IP literals (RFC 6066 §3).
    ...(isIP(verifyName) ? {} : { servername: verifyName }),
    secureContext,
    rejectUnauthorized: false,
    checkServerIdentity: (name): Error | undefined => checkIdentity(name, leafOf()),
    ...(offered && { session: offered.session }),
  });
  const leafOf = peerLeaf(tlsSocket);
  const restorePeerCertificate = skipPeerCertificateObjects(tlsSocket);
  // TLS 1.2 hands over its session during the handshake, TLS 1.3 its tickets after it.
  let early: Buffer | undefined;
  let onSession = (session: Buffer): void => void (early = session);
  if (key !== undefined) tlsSocket.on('session', (session: Buffer) => onSession(session));
  ctx.sockets.push(tlsSocket);
  ctx.transcript.record('-', `TLS handshake (server name ${verifyName}${offered ? ', offering a session to resume' : ''})`);
  try {
    await ctx.deadline.race(
      new Promise<void>((resolve, reject) => {
        tlsSocket.once('secureConnect', () => {
          ioTime();
          resolve();
        });
        tlsSocket.once('error', (error) => reject(classifyHandshakeError(error)));
        tlsSocket.once('close', () => reject(new ProbeError('tls_handshake_failed', 'connection closed during the TLS handshake')));
      }),
    );
  } catch (error) {
    if (key !== undefined) tlsSessions.forget(key);
    throw error;
  } finally {
    restorePeerCertificate();
  }
  tlsSocket.removeAllListeners('error');
  tlsSocket.removeAllListeners('close');
  tlsSocket.on('error', () => undefined);
  const leaf = leafOf();
  const resumed = offered !== undefined && tlsSocket.isSessionReused() ? offered : undefined;
  const facts = resumed ? resumedFacts(tlsSocket, resumed) : tlsFacts(tlsSocket, leaf);
  if (key !== undefined) {
    if (facts.authorized || tlsConfig.insecureSkipVerify) {
      const { version: _version, cipher: _cipher, resumedFrom: _resumedFrom, ...certificate } = facts;
      const fullHandshakeAt = resumed?.fullHandshakeAt ?? Date.now();
      onSession = (session) => tlsSessions.keep(key, { session, fullHandshakeAt, facts: resumed?.facts ?? certificate });
      if (early) onSession(early);
    } else {
      tlsSessions.forget(key);
    }
  }
  ctx.facts.tls = facts;
  ctx.encrypted = true;
  ctx.transcript.record('-', describe(facts));
  if (!facts.authorized && !tlsConfig.insecureSkipVerify) {
    throw rejectedCertificate(facts.authorizationError ?? 'unknown', verifyName, facts, leaf);
  }
  return tlsSocket;
}

/** A verification failure, with what tells its causes apart: the names the certificate is for, or when it expired. */
function rejectedCertificate(code: string, verifyName: string, facts: TlsFacts, leaf: X509Certificate | undefined): ProbeError {
  const said = `certificate rejected: ${code} (verified as ${verifyName})`;
  if (code === 'CERT_HAS_EXPIRED') {
    const notAfter = facts.certNotAfter === undefined ? '' : `, notAfter ${new Date(facts.certNotAfter * 1000).toISOString()}`;
    return new ProbeError('tls_certificate_expired', `${said}${notAfter}`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = certificateNames(leaf);
    return new ProbeError('tls_certificate_invalid', `${said}; the certificate is for ${names || 'no name'}`, { hintCause: 'wrong_name' });
  }
  return new ProbeError('tls_certificate_invalid', said, { hintCause: code === 'CERT_NOT_YET_VALID' ? 'not_yet_valid' : 'untrusted' });
}

/** Subject alternative names as OpenSSL prints them (`DNS:imap.example.com, IP Address:192.0.2.1`), else the CN. */
function certificateNames(leaf: X509Certificate | undefined): string {
  if (!leaf) return '';
  const cn = commonName(leaf.subject);
  // Bounded: a certificate may list hundreds of names.
  const names = leaf.subjectAltName ? leaf.subjectAltName.split(', ') : cn ? [`CN=${cn}`] : [];
  const shown = names.slice(0, MAX_NAMES_SHOWN).join(', ');
  return names.length > MAX_NAMES_SHOWN ? `${shown} and ${names.length - MAX_NAMES_SHOWN} more` : shown;
}

const MAX_NAMES_SHOWN = 20;
/** A presented chain longer than this is not walked further (real ones have 2-4). */
const MAX_CHAIN = 10;

/**
 * The negotiated TLS and the certificate facts. Read through X509Certificate handles
 * (getPeerX509Certificate), which decode a field only when asked: getPeerCertificate(true)
 * turned the whole chain into JavaScript objects, every field of every certificate, for
 * ~0.9 ms of CPU per TLS probe, the largest single cost of a probe.
 */
function tlsFacts(socket: TLSSocket, leaf: X509Certificate | undefined): TlsFacts {
  const cipher = socket.getCipher();
  const facts: TlsFacts = {
    version: socket.getProtocol() ?? 'unknown',
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    authorized: socket.authorized,
  };
  if (!socket.authorized && socket.authorizationError) facts.authorizationError = String(socket.authorizationError);
  if (leaf) {
    facts.certSubject = nameOf(leaf.subject);
    facts.certIssuer = nameOf(leaf.issuer);
    const notAfter = earliestNotAfter(leaf);
    if (notAfter !== undefined) facts.certNotAfter = notAfter;
  }
  return facts;
}

/** A resumed handshake: this connection's protocol and cipher, the certificate facts of the full handshake. */
function resumedFacts(socket: TLSSocket, kept: KeptSession): TlsFacts {
  const cipher = socket.getCipher();
  return {
    version: socket.getProtocol() ?? 'unknown',
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    ...kept.facts,
    resumedFrom: Math.floor(kept.fullHandshakeAt / 1000),
  };
}

/** Earliest expiry along the presented chain, in epoch seconds: the first certificate to break the chain. */
function earliestNotAfter(leaf: X509Certificate): number | undefined {
  let earliest: number | undefined;
  const seen = new Set<string>();
  let cert: X509Certificate | undefined = leaf;
  while (cert && seen.size < MAX_CHAIN && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    const ms = Date.parse(cert.validTo);
    if (Number.isFinite(ms)) earliest = earliest === undefined ? ms / 1000 : Math.min(earliest, ms / 1000);
    cert = cert.issuerCertificate;
  }
  return earliest;
}

/** A distinguished name as X509Certificate writes it (`C=DE\nO=Example\nCN=imap.example.com`): its CN, else all of it. */
function nameOf(name: string): string | undefined {
  if (name === '') return undefined;
  return commonName(name) ?? name.split('\n').join(', ');
}

function commonName(name: string): string | undefined {
  const cn = name.split('\n').find((part) => part.startsWith('CN='));
  return cn?.slice(3);
}

function describe(facts: TlsFacts): string {
  const expiry = facts.certNotAfter ? `, certificate valid until ${new Date(facts.certNotAfter * 1000).toISOString()}` : '';
  const verified = facts.authorized ? 'verified' : `NOT verified: ${facts.authorizationError ?? 'unknown'}`;
  const resumed =
    facts.resumedFrom === undefined ? '' : ` (session resumed: certificate as of the full handshake at ${new Date(facts.resumedFrom * 1000).toISOString()})`;
  return `TLS ${facts.version} ${facts.cipher}, subject ${facts.certSubject ?? '?'}, issuer ${facts.certIssuer ?? '?'}${expiry}, ${verified}${resumed}`;
}

const CERT_INVALID_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
]);

/** A handshake that did not complete: a certificate problem, or TLS could not be negotiated at all. */
export function classifyHandshakeError(error: NodeJS.ErrnoException): ProbeError {
  const code = error.code ?? '';
  if (code === 'CERT_HAS_EXPIRED') return new ProbeError('tls_certificate_expired', `certificate rejected: ${code}`, { cause: error });
  if (CERT_INVALID_CODES.has(code)) {
    const hintCause = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'wrong_name' : code === 'CERT_NOT_YET_VALID' ? 'not_yet_valid' : 'untrusted';
    return new ProbeError('tls_certificate_invalid', `certificate rejected: ${code}`, { cause: error, hintCause });
  }
  // OpenSSL read "* OK …" (or any clear text) where a TLS record header belongs.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return new ProbeError('tls_handshake_failed', `the server answered in plaintext, not TLS (${code})`, { cause: error, hintCause: 'plaintext' });
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new ProbeError('tls_handshake_failed', `connection reset during the TLS handshake (${code})`, { cause: error });
  }
  return new ProbeError('tls_handshake_failed', `TLS handshake failed: ${code || error.message}`, { cause: error });
}
