import type { Socket } from 'node:net';
import type { ResolverConfig } from '../dns/resolver.js';
import type { ImapSession } from '../imap/session.js';
import type { Deadline } from './deadline.js';
import type { Transcript } from './transcript.js';
import type { AccountSpec, ProbeFacts, ProbeLimits, ProbeSpec } from './types.js';

/** What the stages of one probe share: the spec, the deadline, the connection and what was learnt. */
export interface ProbeContext {
  readonly spec: ProbeSpec;
  readonly limits: ProbeLimits;
  readonly deadline: Deadline;
  readonly transcript: Transcript;
  readonly facts: ProbeFacts;
  /** How the resolve stage looks names up (tests point it at their own DNS server). */
  readonly resolver?: ResolverConfig;
  /** Every socket opened, destroyed when the probe ends whatever happened. */
  readonly sockets: Socket[];
  socket?: Socket;
  session?: ImapSession;
  /** The account's password, read (and its forms registered with the transcript) before connecting. */
  password?: { value: string } | { error: unknown };
  /** True once the connection is encrypted (implicit TLS or after STARTTLS). */
  encrypted: boolean;
}

export function requireSession(ctx: ProbeContext): ImapSession {
  if (!ctx.session) throw new Error('stage ran before the greeting opened a session');
  return ctx.session;
}

export function requireAccount(ctx: ProbeContext): AccountSpec {
  if (!ctx.spec.account) throw new Error('account stage ran for a probe without an account');
  return ctx.spec.account;
}

export function hasCapability(ctx: ProbeContext, name: string): boolean {
  const wanted = name.toUpperCase();
  return (ctx.facts.capabilities ?? []).some((c) => c.toUpperCase() === wanted);
}

/** After login the server may announce more (Dovecot adds NAMESPACE, QUOTA, ACL); fall back to the pre-login set. */
export function hasCapabilityAfterLogin(ctx: ProbeContext, name: string): boolean {
  const wanted = name.toUpperCase();
  return (ctx.facts.capabilitiesAfterLogin ?? ctx.facts.capabilities ?? []).some((c) => c.toUpperCase() === wanted);
}
