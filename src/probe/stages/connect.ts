import { connect, isIP } from 'node:net';
import { ioTime } from '../../io-clock.js';
import type { ProbeContext } from '../context.js';

/** TCP connect to the resolved address. */
export async function connectStage(ctx: ProbeContext): Promise<void> {
  const host = ctx.facts.address ?? ctx.spec.host;
  if (isIP(ctx.spec.host)) ctx.facts.address = ctx.spec.host;
  const socket = connect({ host, port: ctx.spec.port });
  ctx.sockets.push(socket);
  socket.setNoDelay(true);
  await ctx.deadline.race(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        ioTime();
        resolve();
      });
      socket.once('error', reject);
    }),
  );
  socket.removeAllListeners('error');
  // An error event with no listener would crash the process; the IMAP reader adds its own.
  socket.on('error', () => undefined);
  ctx.socket = socket;
  ctx.transcript.record('-', `connected to ${host}:${ctx.spec.port} from ${socket.localAddress}:${socket.localPort}`);
}
