import { capability } from '../../imap/commands/capability.js';
import type { ProbeContext } from '../context.js';
import { hasCapability, requireSession } from '../context.js';
import { ProbeError } from '../errors.js';
import { upgradeToTls } from '../tls-upgrade.js';

/** STARTTLS, the handshake, then CAPABILITY again: what was said in clear text no longer counts. */
export async function starttlsStage(ctx: ProbeContext): Promise<void> {
  const session = requireSession(ctx);
  if (!hasCapability(ctx, 'STARTTLS')) {
    throw new ProbeError('starttls_unsupported', 'the server does not advertise STARTTLS');
  }
  const answer = await session.command('STARTTLS');
  if (answer.status !== 'OK') {
    throw new ProbeError('starttls_rejected', `STARTTLS answered ${answer.status} ${answer.tagged.text}`.trim());
  }
  // Bytes that arrived with the OK were sent in clear text and must not be read as TLS-protected (CVE-2011-0411).
  if (!session.isDrained()) {
    throw new ProbeError('protocol_error', 'the server sent data after accepting STARTTLS, before the handshake');
  }
  const tlsSocket = await upgradeToTls(ctx, session.detach());
  ctx.socket = tlsSocket;
  session.resume(tlsSocket);
  ctx.facts.capabilities = undefined;
  const after = await capability(session);
  if (after.status !== 'OK') {
    throw new ProbeError('protocol_error', `CAPABILITY after STARTTLS answered ${after.status} ${after.tagged.text}`.trim());
  }
  ctx.facts.capabilities = after.capabilities;
  ctx.facts.capabilitiesAfterTls = after.capabilities;
}
