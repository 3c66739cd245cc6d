import type { ProbeJob } from '../probe/types.js';

export type JobLookup = { job: ProbeJob } | { error: string };

/**
 * The configured job a request names. Only configured targets can be probed: the
 * endpoint is never a way to make the exporter connect somewhere else. Without
 * `account`, a target is probed unauthenticated (is the server up?).
 */
export function findJob(jobs: readonly ProbeJob[], target: unknown, account: unknown): JobLookup {
  if (typeof target !== 'string' || target === '') return { error: 'parameter "target" is required: the name of a configured target' };
  if (account !== undefined && typeof account !== 'string') return { error: 'parameter "account" must appear once' };
  const ofTarget = jobs.filter((job) => job.target === target);
  const first = ofTarget[0];
  if (!first) return { error: `unknown target ${JSON.stringify(target)}: only targets in the config can be probed` };
  if (account === undefined || account === '') {
    const unauthenticated = ofTarget.find((job) => job.account === undefined);
    if (unauthenticated) return { job: unauthenticated };
    const { account: _dropped, ...spec } = first.spec;
    return { job: { key: target, target, intervalMs: first.intervalMs, spec } };
  }
  const job = ofTarget.find((j) => j.account === account);
  if (job) return { job };
  const known = ofTarget.map((j) => j.account).filter((a) => a !== undefined);
  return {
    error: `unknown account ${JSON.stringify(account)} for target ${JSON.stringify(target)}${known.length ? `; configured: ${known.join(', ')}` : ''}`,
  };
}
