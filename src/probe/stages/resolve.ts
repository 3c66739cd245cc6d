import { DnsError, resolveHost } from '../../dns/resolver.js';
import type { ProbeContext } from '../context.js';
import { ProbeError } from '../errors.js';

/**
 * DNS lookup of the host (skipped for IP literals: the runner never plans it then), with a
 * resolver the deadline cancels (dns/resolver.ts says why not getaddrinfo). The detail
 * starts with the resolver's code (ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL, …) and the
 * DnsError is the cause, so hints can tell "no such name" from "the resolver is down".
 */
export async function resolveStage(ctx: ProbeContext): Promise<void> {
  let address: string;
  try {
    address = await ctx.deadline.race(resolveHost(ctx.spec.host, ctx.deadline.signal, ctx.resolver));
  } catch (error) {
    if (error instanceof DnsError) throw new ProbeError('dns_error', `${error.code}: ${ctx.spec.host}`, { cause: error });
    throw error;
  }
  ctx.facts.address = address;
  ctx.transcript.record('-', `resolved ${ctx.spec.host} to ${address}`);
}
