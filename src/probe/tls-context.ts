import { readFile, stat } from 'node:fs/promises';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ProbeError } from './errors.js';

/**
 * One TLS context per CA file, rebuilt only when the file changes: building a
 * context parses the CA bundle, which would otherwise cost every TLS probe a
 * millisecond or two of CPU — real money at thousands of targets.
 */
const byCaFile = new Map<string, { version: string; context: SecureContext }>();
let systemDefault: SecureContext | undefined;

export async function secureContextFor(caFile: string | undefined): Promise<SecureContext> {
  if (caFile === undefined) return (systemDefault ??= createSecureContext());
  try {
    const info = await stat(caFile);
    const version = `${info.ino}:${info.size}:${info.mtimeMs}`;
    const cached = byCaFile.get(caFile);
    if (cached?.version === version) return cached.context;
    const context = createSecureContext({ ca: await readFile(caFile) });
    byCaFile.set(caFile, { version, context });
    return context;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ProbeError('tls_certificate_invalid', `cannot use ca_file ${caFile}: ${code}`, { cause: error });
  }
}
