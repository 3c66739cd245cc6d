import type { ProbeResult, StageOutcome } from './types.js';

/**
 * The human form of a probe result: one line per reached stage with ✓/✗, its
 * time and the essential facts, then the verdict: stage and reason, what happened
 * (the server's own words among it) and the hint. Shared by `check` and
 * /probe?debug=true so they never disagree.
 */
export function formatProbeReport(result: ProbeResult): string {
  const lines = result.stages.map((outcome) => stageLine(outcome, result));
  if (result.failure) {
    const { stage, reason, hint, detail } = result.failure;
    lines.push('', `${stage} ✗ ${reason}`, `  detail: ${detail}`, `  hint: ${hint}`);
  } else {
    lines.push('', `OK: every stage passed in ${formatMs(result.durationSeconds)}`);
  }
  return lines.join('\n');
}

function stageLine(outcome: StageOutcome, result: ProbeResult): string {
  const mark = outcome.success ? '✓' : '✗';
  const facts = outcome.success ? stageFacts(outcome, result) : failureFacts(result);
  return `  ${mark} ${outcome.stage.padEnd(9)} ${formatMs(outcome.durationSeconds).padStart(10)}  ${facts}`.trimEnd();
}

function failureFacts(result: ProbeResult): string {
  return result.failure?.reason ?? '';
}

function stageFacts(outcome: StageOutcome, result: ProbeResult): string {
  const { facts } = result;
  switch (outcome.stage) {
    case 'resolve':
    case 'connect':
      return facts.address ?? '';
    case 'greeting':
      return facts.greeting ? `* ${facts.preauth ? 'PREAUTH' : 'OK'} ${facts.greeting}` : '';
    case 'tls':
    case 'starttls':
      return tlsSummary(result);
    case 'login':
      if (facts.preauth) return 'skipped: the server sent PREAUTH (already authenticated)';
      return result.account ? `as ${result.account}` : '';
    case 'select': {
      const m = facts.mailbox;
      if (!m) return '';
      const access = m.writable === undefined ? '' : m.writable ? ', read-write' : ', read-only';
      return `${m.name}: ${m.exists ?? '?'} messages, ${m.recent ?? '?'} recent, UIDVALIDITY ${m.uidValidity ?? '?'}${access}`;
    }
    case 'list':
      return facts.lists
        .map((l) => `${JSON.stringify(l.reference + l.pattern)}: ${l.folders.length} folder${l.folders.length === 1 ? '' : 's'}`)
        .join(', ');
    case 'logout':
      return '';
  }
}

function tlsSummary(result: ProbeResult): string {
  const tls = result.facts.tls;
  if (!tls) return '';
  const parts = [`${tls.version} ${tls.cipher}`];
  if (tls.certNotAfter !== undefined) {
    const days = Math.floor((tls.certNotAfter * 1000 - result.endedAt) / 86_400_000);
    parts.push(days >= 0 ? `certificate expires in ${days} days` : `certificate EXPIRED ${-days} days ago`);
  }
  if (!tls.authorized) parts.push(`not verified (${tls.authorizationError ?? 'unknown'})`);
  if (tls.resumedFrom !== undefined) parts.push('session resumed');
  return parts.join(', ');
}

export function formatMs(seconds: number): string {
  const ms = seconds * 1000;
  return `${ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
}
