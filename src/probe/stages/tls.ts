import type { ProbeContext } from '../context.js';
import { upgradeToTls } from '../tls-upgrade.js';

/** Implicit TLS (port 993 style): the handshake before any IMAP. */
export async function tlsStage(ctx: ProbeContext): Promise<void> {
  if (!ctx.socket) throw new Error('tls stage without a connection');
  ctx.socket = await upgradeToTls(ctx, ctx.socket);
}
