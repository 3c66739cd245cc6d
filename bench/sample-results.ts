/**
 * Realistic job sets and results for the benchmarks: each target has one
 * unauthenticated job and three accounts; results are a STARTTLS probe through every
 * stage (12 capabilities, 2 LIST patterns, a mailbox, a 20-line transcript), one job
 * in ten failing at login instead.
 */
import type { ProbeJob, ProbeResult, StageOutcome } from '../src/probe/types.js';
import type { Stage } from '../src/probe/stages.js';

const CAPABILITIES = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'LOGIN-REFERRALS', 'ID', 'ENABLE', 'IDLE', 'SORT', 'THREAD=REFERENCES',
  'MULTIAPPEND', 'UNSELECT', 'AUTH=PLAIN'];
const STAGES: Stage[] = ['resolve', 'connect', 'greeting', 'starttls', 'login', 'select', 'list', 'logout'];

export function makeJobs(count: number): ProbeJob[] {
  const jobs: ProbeJob[] = [];
  for (let i = 0; jobs.length < count; i += 1) {
    const target = `imap-${i}.example.net`;
    for (const account of [undefined, 'probe-a', 'probe-b', 'probe-c']) {
      if (jobs.length === count) break;
      jobs.push({
        key: account ? `${target}/${account}` : target,
        target,
        account,
        intervalMs: 60_000,
        spec: { target, host: target, port: 143, tls: 'starttls', tlsConfig: { insecureSkipVerify: false }, timeoutMs: 10_000 },
      });
    }
  }
  return jobs;
}

export function makeResult(job: ProbeJob, run: number, index: number): ProbeResult {
  const authenticated = job.account !== undefined;
  const failsLogin = authenticated && index % 10 === 0;
  let names = authenticated ? STAGES : STAGES.filter((s) => !['login', 'select', 'list'].includes(s));
  if (failsLogin) names = STAGES.slice(0, STAGES.indexOf('login') + 1);
  const stages: StageOutcome[] = names.map((stage, i) => ({
    stage,
    success: !(failsLogin && stage === 'login'),
    durationSeconds: 0.002 + ((index * 7 + i * 13 + run) % 100) / 400,
  }));
  const durationSeconds = stages.reduce((sum, s) => sum + s.durationSeconds, 0);
  const endedAt = 1_760_000_000_000 + run * 60_000 + index;
  const reached = !failsLogin && authenticated;
  return {
    target: job.target,
    account: job.account,
    success: !failsLogin,
    startedAt: endedAt - durationSeconds * 1000,
    endedAt,
    durationSeconds,
    stages,
    failure: failsLogin ? { stage: 'login', reason: 'auth_failed', hint: 'h', detail: 'a NO [AUTHENTICATIONFAILED] Authentication failed.' } : undefined,
    facts: {
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', certNotAfter: 1_790_000_000 + index, authorized: true },
      capabilities: CAPABILITIES,
      mailbox: reached ? { name: 'INBOX', exists: index % 5000, recent: index % 3, uidValidity: 1_600_000_000 + index, writable: true } : undefined,
      lists: reached
        ? [
            { reference: '', pattern: '*', folders: Array.from({ length: 6 }, (_, f) => ({ name: `F${f}`, delimiter: '.', flags: [] })) },
            { reference: '', pattern: '#shared.*', folders: [] },
          ]
        : [],
    },
    transcript: Array.from({ length: 20 }, (_, t) => ({ atMs: t * 3, direction: t % 2 ? 'S' : 'C', text: `a${t} OK command completed (${index})` })),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
