import { lookup } from 'node:dns/promises';
import type { ProbeContext } from '../context.js';

/** DNS lookup of the host (skipped for IP literals: the runner never plans it then). */
export async function resolveStage(ctx: ProbeContext): Promise<void> {
  const { address } = await ctx.deadline.race(lookup(ctx.spec.host));
  ctx.facts.address = address;
  ctx.transcript.record('-', `resolved ${ctx.spec.host} to ${address}`);
}
