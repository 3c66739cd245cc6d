import type { ProbeFacts } from './types.js';

/** When a CAPABILITY list was seen: the `when` label of imap_server_capability. */
export type CapabilityWhen = 'pre_tls' | 'post_tls' | 'post_login';

/**
 * The capability lists a probe saw, in dialogue order, each once: before TLS (plaintext),
 * after TLS (encrypted, before login) and after login. Kept apart because they answer
 * different questions: "is plaintext LOGIN disabled on port 143" is about pre_tls only.
 */
export function capabilitySets(facts: ProbeFacts): [CapabilityWhen, string[]][] {
  const sets: [CapabilityWhen, string[]][] = [];
  if (facts.capabilitiesBeforeTls) sets.push(['pre_tls', facts.capabilitiesBeforeTls]);
  if (facts.capabilitiesAfterTls) sets.push(['post_tls', facts.capabilitiesAfterTls]);
  if (facts.capabilitiesAfterLogin) sets.push(['post_login', facts.capabilitiesAfterLogin]);
  return sets;
}
