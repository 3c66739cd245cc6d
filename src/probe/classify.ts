import { ConnectionClosedError, ImapProtocolError } from '../imap/errors.js';
import type { Deadline } from './deadline.js';
import { DeadlineExceededError, ProbeError } from './errors.js';
import type { Reason } from './reasons.js';
import type { Stage } from './stages.js';

export interface Classified {
  reason: Reason;
  detail: string;
}

const ERRNO_REASONS: Record<string, Reason> = {
  ECONNREFUSED: 'connection_refused',
  ENETUNREACH: 'network_unreachable',
  EHOSTUNREACH: 'network_unreachable',
  EADDRNOTAVAIL: 'network_unreachable',
  ENETDOWN: 'network_unreachable',
  EHOSTDOWN: 'network_unreachable',
  ETIMEDOUT: 'timeout',
  ECONNRESET: 'connection_closed',
  EPIPE: 'connection_closed',
  ECONNABORTED: 'connection_closed',
  ENOTFOUND: 'dns_error',
  EAI_AGAIN: 'dns_error',
  EAI_NONAME: 'dns_error',
  EAI_FAIL: 'dns_error',
  ENODATA: 'dns_error',
};

/** Maps whatever a stage threw to exactly one reason from the contract's list. */
export function classify(error: unknown, stage: Stage, deadline: Deadline): Classified {
  // Once the deadline passed, whatever broke did so because we cut it off.
  if (error instanceof DeadlineExceededError || deadline.expired) {
    const detail = deadline.aborted
      ? `probe aborted during ${stage} (exporter shutting down)`
      : `no answer within the probe's deadline of ${formatSeconds(deadline.timeoutMs)} (during ${stage})`;
    return { reason: 'timeout', detail };
  }
  if (error instanceof ProbeError) return { reason: error.reason, detail: error.detail };
  if (error instanceof ImapProtocolError) return { reason: 'protocol_error', detail: error.message };
  if (error instanceof ConnectionClosedError) {
    const code = errnoOf(error.cause);
    if (code && ERRNO_REASONS[code] && ERRNO_REASONS[code] !== 'connection_closed') {
      return { reason: ERRNO_REASONS[code], detail: `${code} during ${stage}` };
    }
    return { reason: 'connection_closed', detail: `${error.message} during ${stage}` };
  }
  const code = errnoOf(error);
  if (code && ERRNO_REASONS[code]) {
    return { reason: ERRNO_REASONS[code], detail: describeErrno(error, code) };
  }
  if (stage === 'resolve') return { reason: 'dns_error', detail: messageOf(error) };
  return { reason: 'protocol_error', detail: `unexpected error during ${stage}: ${messageOf(error)}` };
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describeErrno(error: unknown, code: string): string {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  if (e.hostname) return `${code}: ${e.hostname}`;
  if (e.address) return `${code}: ${e.address}${e.port ? `:${e.port}` : ''}`;
  return code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
}
