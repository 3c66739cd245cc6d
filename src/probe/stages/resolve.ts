import { resolveHost } from '../../dns/resolver.js';
import type { ProbeContext } from '../context.js';

/**
 * DNS lookup of the host (skipped for IP literals: the runner never plans it then), with a
 * resolver the deadline cancels (dns/resolver.ts says why not getaddrinfo). A failure is a
 * DnsError carrying the resolver's code (ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL, …) and
 * the host name, so classify can tell "no such name" from "the resolver failed".
 */
export async function resolveStage(ctx: ProbeContext): Promise<void> {
  const address = await ctx.deadline.race(resolveHost(ctx.spec.host, ctx.deadline.signal, ctx.resolver));
  ctx.facts.address = address;
  ctx.transcript.record('-', `resolved ${ctx.spec.host} to ${address}`);
}
