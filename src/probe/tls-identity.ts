import type { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';

/**
 * The host name check of a TLS handshake, from the certificate's X509Certificate handle.
 * After the handshake Node calls getPeerCertificate(true), which turns the whole presented
 * chain into JavaScript objects (~0.4 ms of CPU, the largest single cost of a TLS probe),
 * only to hand it to checkServerIdentity, which reads two fields of it: the subject's CN
 * and the subject alternative names. The handle gives both for a microsecond, and the
 * check itself stays Node's own.
 */
export function checkIdentity(hostname: string, leaf: X509Certificate | undefined): Error | undefined {
  return checkServerIdentity(hostname, leaf ? identityOf(leaf) : ({} as PeerCertificate));
}

/** What checkServerIdentity reads, in the shape getPeerCertificate gives it (`subject.CN` an array when repeated). */
export function identityOf(leaf: X509Certificate): PeerCertificate {
  const cns = leaf.subject.split('\n').filter((part) => part.startsWith('CN=')).map((part) => part.slice(3));
  const subject = cns.length === 0 ? {} : { CN: cns.length === 1 ? cns[0] : cns };
  return { subject, ...(leaf.subjectAltName === undefined ? {} : { subjectaltname: leaf.subjectAltName }) } as PeerCertificate;
}

/**
 * The peer's leaf certificate, read once: on Node 20 each getPeerX509Certificate() call on
 * a client socket takes the leaf out of the peer chain it reads from (a second call gets
 * the next certificate or nothing; fixed by Node 24), and both the name check during the
 * handshake and the facts after it need the leaf.
 */
export function peerLeaf(socket: TLSSocket): () => X509Certificate | undefined {
  let read = false;
  let leaf: X509Certificate | undefined;
  return () => {
    if (!read) {
      read = true;
      leaf = socket.getPeerX509Certificate();
    }
    return leaf;
  };
}

/**
 * For the handshake only: Node's getPeerCertificate(true) call after it is answered with an
 * empty object (its result goes only to our checkServerIdentity, which does not read it).
 * Returns what puts the method back; call it once the handshake is over.
 */
export function skipPeerCertificateObjects(socket: TLSSocket): () => void {
  Object.defineProperty(socket, 'getPeerCertificate', { value: () => ({}), configurable: true, writable: true });
  return () => void delete (socket as { getPeerCertificate?: unknown }).getPeerCertificate;
}
