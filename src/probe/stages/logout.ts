import { ConnectionClosedError } from '../../imap/errors.js';
import type { ProbeContext } from '../context.js';
import { requireSession } from '../context.js';
import { ProbeError } from '../errors.js';

/** LOGOUT: `* BYE` then the tagged OK. A server that closes right after its BYE has still logged us out. */
export async function logoutStage(ctx: ProbeContext): Promise<void> {
  const session = requireSession(ctx);
  try {
    const answer = await session.command('LOGOUT');
    if (answer.status !== 'OK') {
      throw new ProbeError('protocol_error', `LOGOUT answered ${answer.status} ${answer.tagged.text}`.trim());
    }
  } catch (error) {
    if (!(error instanceof ConnectionClosedError && session.byeReceived)) throw error;
  }
  ctx.socket?.end();
}
