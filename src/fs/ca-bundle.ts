/** Reading a CA bundle: bounded, and only accepted when it holds at least one certificate that parses. */
import { X509Certificate } from 'node:crypto';
import { FileReadError, MIB, readBoundedFile } from './bounded-read.js';

/** Far above any real bundle (Debian's ca-certificates.crt is ~200 KiB). */
export const CA_FILE_MAX_BYTES = 1 * MIB;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The file's bytes, for createSecureContext({ca}); rejects a bundle with no parseable PEM certificate. */
export async function readCaBundle(path: string): Promise<Buffer> {
  const bytes = await readBoundedFile(path, { maxBytes: CA_FILE_MAX_BYTES });
  const blocks = bytes.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  const parses = (pem: string) => {
    try {
      new X509Certificate(pem);
      return true;
    } catch {
      return false;
    }
  };
  if (!blocks.some(parses)) throw new FileReadError('ENOCERT', 'no parseable PEM certificate in it');
  return bytes;
}
