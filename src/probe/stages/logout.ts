import { ConnectionClosedError } from '../../imap/errors.js';
import type { ProbeContext } from '../context.js';
import { requireSession } from '../context.js';
import { ProbeError } from '../errors.js';

/** LOGOUT, then the tagged OK or the server closing the connection: either ends the session. */
export async function logoutStage(ctx: ProbeContext): Promise<void> {
  const session = requireSession(ctx);
  try {
    const answer = await session.command('LOGOUT');
    if (answer.status !== 'OK') {
      throw new ProbeError('protocol_error', `LOGOUT answered ${answer.status} ${answer.tagged.text}`.trim());
    }
  } catch (error) {
    if (!(error instanceof ConnectionClosedError)) throw error;
    ctx.transcript.record('-', `the server closed the connection ${session.byeReceived ? 'after * BYE' : 'without * BYE'}, before the tagged OK`);
  }
  ctx.socket?.end();
}
