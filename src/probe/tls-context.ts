import { createSecureContext, type SecureContext } from 'node:tls';
import { describeFsError } from '../fs/bounded-read.js';
import { readCaBundle } from '../fs/ca-bundle.js';
import { cachedFile } from '../fs/cached-file.js';
import { ProbeError } from './errors.js';

/**
 * One TLS context per CA file, rebuilt only when the file changes: building a
 * context parses the CA bundle, which would otherwise cost every TLS probe a
 * millisecond or two of CPU — real money at thousands of targets.
 */
const byCaFile = new Map<string, () => Promise<SecureContext>>();
let systemDefault: SecureContext | undefined;

export async function secureContextFor(caFile: string | undefined): Promise<SecureContext> {
  if (caFile === undefined) return (systemDefault ??= createSecureContext());
  let context = byCaFile.get(caFile);
  if (!context) {
    context = cachedFile(caFile, async (path) => createSecureContext({ ca: await readCaBundle(path) }));
    byCaFile.set(caFile, context);
  }
  try {
    return await context();
  } catch (error) {
    throw new ProbeError('tls_certificate_invalid', `cannot use ca_file ${caFile}: ${describeFsError(error)}`, { cause: error });
  }
}
