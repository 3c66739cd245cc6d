import { isIP } from 'node:net';
import { resolveLimits } from '../imap/limits.js';
import { classify } from './classify.js';
import type { ProbeContext } from './context.js';
import { Deadline } from './deadline.js';
import { hintFor } from './hints.js';
import { politeLogout } from './polite-logout.js';
import { StageClock } from './stage-clock.js';
import type { Stage } from './stages.js';
import { connectStage } from './stages/connect.js';
import { greetingStage } from './stages/greeting.js';
import { listStage } from './stages/list.js';
import { loginStage, preparePassword } from './stages/login.js';
import { logoutStage } from './stages/logout.js';
import { resolveStage } from './stages/resolve.js';
import { selectStage } from './stages/select.js';
import { starttlsStage } from './stages/starttls.js';
import { tlsStage } from './stages/tls.js';
import { Transcript } from './transcript.js';
import type { ProbeFailure, ProbeResult, ProbeSpec, RunProbeOptions, StageOutcome } from './types.js';

type StageRunner = (ctx: ProbeContext) => Promise<void>;

const STAGE_RUNNERS: Record<Stage, StageRunner> = {
  resolve: resolveStage,
  connect: connectStage,
  tls: tlsStage,
  greeting: greetingStage,
  starttls: starttlsStage,
  login: loginStage,
  select: selectStage,
  list: listStage,
  logout: logoutStage,
};

/** A detail goes into log lines and pages: long enough for any real server's words. */
const MAX_DETAIL_CHARS = 1000;

/** The server's own words in this stage (`* BYE`, `[ALERT]`) are never lost: added unless the detail quotes them already. */
function withServerWords(detail: string, notices: readonly string[]): string {
  const unquoted = notices.filter((notice) => !detail.includes(notice));
  return unquoted.length === 0 ? detail : `${detail}; the server said: ${unquoted.join('; ')}`;
}

function boundDetail(detail: string): string {
  return detail.length <= MAX_DETAIL_CHARS ? detail : `${detail.slice(0, MAX_DETAIL_CHARS)}… (${detail.length} chars)`;
}

/** The stages this spec runs, in order (CONTRACT §1's "skipped when" column). */
export function planStages(spec: ProbeSpec): Stage[] {
  const stages: Stage[] = [];
  if (!isIP(spec.host)) stages.push('resolve');
  stages.push('connect');
  if (spec.tls === 'tls') stages.push('tls');
  stages.push('greeting');
  if (spec.tls === 'starttls') stages.push('starttls');
  if (spec.account) stages.push('login', 'select', 'list');
  stages.push('logout');
  return stages;
}

/**
 * Runs one probe through its stages under one deadline. Never rejects: every
 * failure becomes a result with one failed stage and one reason. Every socket it
 * opened is destroyed before it returns.
 */
export async function runProbe(spec: ProbeSpec, options: RunProbeOptions = {}): Promise<ProbeResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const deadline = new Deadline(spec.timeoutMs, options.signal);
  const transcript = new Transcript(() => performance.now() - t0);
  const ctx: ProbeContext = {
    spec,
    limits: resolveLimits(spec.limits),
    deadline,
    transcript,
    facts: { lists: [] },
    ...(options.resolver ? { resolver: options.resolver } : {}),
    sockets: [],
    encrypted: false,
  };
  // The deadline cuts off whatever a stage waits on: a destroyed socket ends every pending read.
  const destroySockets = () => [...ctx.sockets].reverse().forEach((socket) => socket.destroy());
  deadline.signal.addEventListener('abort', destroySockets, { once: true });

  const stages: StageOutcome[] = [];
  let failure: ProbeFailure | undefined;
  let exporterFault: ProbeResult['exporterFault'];
  try {
    if (spec.account) await preparePassword(ctx);
    const clock = new StageClock();
    for (const stage of planStages(spec)) {
      const end = clock.start(stage);
      const noticesBefore = ctx.session?.notices.length ?? 0;
      try {
        await deadline.race(STAGE_RUNNERS[stage](ctx));
        stages.push({ stage, success: true, durationSeconds: end() });
      } catch (error) {
        stages.push({ stage, success: false, durationSeconds: end() });
        if (isFdExhaustion(error)) exporterFault = 'fd_exhausted';
        const { reason, detail, cause } = classify(error, stage, deadline);
        const said = withServerWords(detail, ctx.session?.notices.slice(noticesBefore) ?? []);
        failure = { stage, reason, hint: hintFor(reason, stage, cause), detail: boundDetail(transcript.redact(said)) };
        transcript.record('-', `${stage} failed: ${reason}: ${failure.detail}`);
        break;
      }
    }
    if (failure) await politeLogout(ctx, failure);
  } finally {
    deadline.signal.removeEventListener('abort', destroySockets);
    deadline.clear();
    destroySockets();
  }
  const result: ProbeResult = {
    target: spec.target,
    success: failure === undefined,
    startedAt,
    endedAt: Date.now(),
    durationSeconds: (performance.now() - t0) / 1000,
    stages,
    // Facts hold server text (greeting, folder names): scrubbed like every recorded line.
    facts: transcript.redactDeep(ctx.facts),
    transcript: transcript.finish(),
  };
  if (spec.account) result.account = spec.account.name;
  if (exporterFault) result.exporterFault = exporterFault;
  // Scrubbed again: a secret learnt after the failure was recorded still must not show.
  if (failure) result.failure = { ...failure, detail: transcript.redact(failure.detail) };
  return result;
}

/** EMFILE/ENFILE anywhere in the cause chain: our own process (or system) is out of descriptors. */
function isFdExhaustion(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') return true;
  }
  return false;
}
