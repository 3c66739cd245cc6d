import { ConnectionClosedError, ImapProtocolError, type ClosedUnder } from '../imap/errors.js';
import type { Deadline } from './deadline.js';
import { DeadlineExceededError, ProbeError } from './errors.js';
import type { Cause } from './hints.js';
import type { Reason } from './reasons.js';
import type { Stage } from './stages.js';

export interface Classified {
  reason: Reason;
  detail: string;
  /** Narrows the hint (hints.ts); absent when the reason and stage say it all. */
  cause?: Cause;
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

const ERRNO_CAUSES: Record<string, Cause> = {
  ENETUNREACH: 'net_unreachable',
  ENETDOWN: 'net_unreachable',
  // getaddrinfo's "no such name", and c-ares' NXDOMAIN.
  ENOTFOUND: 'no_such_name',
  EAI_NONAME: 'no_such_name',
  ENODATA: 'no_address',
};

/** The commands that authenticate: a close in answer to them means the server could not check or open the account. */
const AUTH_COMMANDS = new Set(['LOGIN', 'AUTHENTICATE']);

/**
 * What the server's `* BYE` says, by the words Courier-IMAP uses: authdaemond unreachable
 * ("Temporary problem, please try again later"), a missing home directory or Maildir
 * ("Fatal error: No such file or directory"), a wrong uid ("Permission denied") or gid
 * ("Account's mailbox directory is not owned by the correct uid or gid").
 */
const BYE_CAUSES: readonly (readonly [RegExp, Cause])[] = [
  [/temporary problem|temporar\w* (auth\w* )?fail|try again later/i, 'auth_backend'],
  [/no such file or directory/i, 'home_directory'],
  [/permission denied|not owned by the correct uid or gid/i, 'uid_gid'],
];

/** Maps whatever a stage threw to exactly one reason from the contract's list, and a cause where one is known. */
export function classify(error: unknown, stage: Stage, deadline: Deadline): Classified {
  // Once the deadline passed, whatever broke did so because we cut it off.
  if (error instanceof DeadlineExceededError || deadline.expired) {
    if (deadline.aborted) return { reason: 'timeout', detail: `probe aborted during ${stage} (exporter shutting down)`, cause: 'aborted' };
    return { reason: 'timeout', detail: `no answer within the probe's deadline of ${formatSeconds(deadline.timeoutMs)} (during ${stage})` };
  }
  if (error instanceof ProbeError) return withCause({ reason: error.reason, detail: error.detail }, error.hintCause);
  if (error instanceof ImapProtocolError) return { reason: 'protocol_error', detail: error.message };
  if (error instanceof ConnectionClosedError) return classifyClose(error, stage);
  const code = errnoOf(error);
  // Whatever the resolver says, the resolve stage failed in DNS (c-ares reports ECONNREFUSED for a dead resolver).
  if (stage === 'resolve') return { reason: 'dns_error', detail: code ? describeErrno(error, code) : messageOf(error), cause: dnsCause(code) };
  if (code && ERRNO_REASONS[code]) {
    return withCause({ reason: ERRNO_REASONS[code], detail: describeErrno(error, code) }, ERRNO_CAUSES[code]);
  }
  return { reason: 'protocol_error', detail: `unexpected error during ${stage}: ${messageOf(error)}` };
}

function classifyClose(error: ConnectionClosedError, stage: Stage): Classified {
  const code = errnoOf(error.cause);
  if (code && ERRNO_REASONS[code] && ERRNO_REASONS[code] !== 'connection_closed') {
    return withCause({ reason: ERRNO_REASONS[code], detail: `${code} during ${stage}` }, ERRNO_CAUSES[code]);
  }
  const under = error.under;
  if (under && (AUTH_COMMANDS.has(under.command) || under.firstAfterLogin)) return authUnavailable(under, code);
  const bye = under?.bye ? `: ${under.bye}` : '';
  return { reason: 'connection_closed', detail: `${error.message} during ${stage}${bye}` };
}

/**
 * A `* BYE` or a close in answer to LOGIN/AUTHENTICATE, or to the first command after it
 * succeeded (some servers accept the password, then fail to open the account): the server
 * could not check the password or open the account. Courier does this with authdaemond
 * down, and for a wrong home directory, uid or gid. The reason is the same whichever
 * stage the close arrived in; the stage label says where.
 */
function authUnavailable(under: ClosedUnder, errno: string | undefined): Classified {
  const when = under.firstAfterLogin
    ? `the server accepted the login, then ended the session in answer to ${under.command}`
    : `the server ended the session in answer to ${under.command}`;
  const how = under.bye ? `: ${under.bye}` : `, closing the connection without * BYE${errno ? ` (${errno})` : ''}`;
  const cause = BYE_CAUSES.find(([pattern]) => under.bye !== undefined && pattern.test(under.bye))?.[1];
  return withCause({ reason: 'auth_unavailable', detail: `${when}${how}` }, cause);
}

function dnsCause(code: string | undefined): Cause {
  return (code && ERRNO_CAUSES[code]) || 'resolver_failed';
}

function withCause(classified: Classified, cause: Cause | undefined): Classified {
  return cause === undefined ? classified : { ...classified, cause };
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
