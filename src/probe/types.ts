import type { ResolverConfig } from '../dns/resolver.js';
import type { ListedFolder } from '../imap/commands/list.js';
import type { AuthMechanism } from '../imap/commands/login.js';
import type { Namespace, Namespaces, NamespaceType } from '../imap/commands/namespace.js';
import type { QuotaResource, QuotaRoot } from '../imap/commands/quota.js';
import type { MailboxFacts } from '../imap/commands/select.js';
import type { ImapLimits } from '../imap/limits.js';
import type { Reason } from './reasons.js';
import type { Stage } from './stages.js';

export type { AuthMechanism, ListedFolder, MailboxFacts, Namespace, Namespaces, NamespaceType, QuotaResource, QuotaRoot };

/** What one probe is asked to do: one target, optionally one account (CONTRACT §1). */
export type TlsMode = 'tls' | 'starttls' | 'none';

export interface TlsSettings {
  caFile?: string;
  serverName?: string;
  insecureSkipVerify: boolean;
  /** Resume TLS sessions, with a full handshake at least this often (absent: every handshake is full). */
  sessionResumptionMs?: number;
}

export interface ListPattern {
  reference: string;
  pattern: string;
}

/** What a LIST must return for the probe to pass (else `expectation_failed`). */
export interface ListExpectation {
  minFolders?: number;
  /** Display names (modified UTF-7 decoded) that must be among the folders returned. */
  folders?: string[];
}

/** One configured LIST: a pattern, and what it is expected to return. */
export interface ListRequest extends ListPattern {
  expect?: ListExpectation;
}

/**
 * `{namespace: shared}` (or `other`, `personal`): one LIST "" "<prefix>*" for every prefix
 * of that kind the server's NAMESPACE announced, each with these expectations.
 */
export interface NamespaceListRequest {
  namespace: NamespaceType;
  expect?: ListExpectation;
}

/** One configured list entry: a pattern, or a kind of namespace to expand after NAMESPACE. */
export type ListEntry = ListRequest | NamespaceListRequest;

/** What SELECT must show for the probe to pass (else `expectation_failed`). */
export interface SelectExpectation {
  minMessages?: number;
}

export interface AccountSpec {
  /** The `account` label value. */
  name: string;
  username: string;
  auth: AuthMechanism;
  allowPlaintextAuth: boolean;
  mailbox: string;
  expect?: SelectExpectation;
  list: ListEntry[];
  /** Reads the secret just before login; a rejection ends the probe with `credentials_unavailable`. */
  password: () => Promise<string>;
}

/** Every bound on what a server may send us: the IMAP layer's type (imap/limits.ts), set per target. */
export type ProbeLimits = ImapLimits;

export interface ProbeSpec {
  /** The `target` label value. */
  target: string;
  host: string;
  port: number;
  tls: TlsMode;
  tlsConfig: TlsSettings;
  /** Deadline for the whole probe. */
  timeoutMs: number;
  account?: AccountSpec;
  limits?: Partial<ProbeLimits>;
}

/** A scheduled unit of work: one (target, account) pair run every interval. */
export interface ProbeJob {
  /** Stable identity, `target` or `target/account`: the scheduler's and results' key. */
  key: string;
  target: string;
  account?: string;
  intervalMs: number;
  spec: ProbeSpec;
}

export interface StageOutcome {
  stage: Stage;
  success: boolean;
  durationSeconds: number;
}

export interface ProbeFailure {
  stage: Stage;
  reason: Reason;
  hint: string;
  /** What happened, in words, already redacted: e.g. the server's `NO Login failed.`. Never a label value. */
  detail: string;
}

export interface TlsFacts {
  version: string;
  cipher: string;
  /** Earliest notAfter in the presented chain, seconds since the epoch. */
  certNotAfter?: number;
  certSubject?: string;
  certIssuer?: string;
  /** Whether the chain and host name verified (false also when verification was skipped and failed). */
  authorized: boolean;
  authorizationError?: string;
  /**
   * The handshake resumed an earlier session: no certificate was presented, and the
   * certificate facts are those of the full handshake at this time (epoch seconds).
   */
  resumedFrom?: number;
}

export interface ListFacts extends ListPattern {
  folders: ListedFolder[];
  /** Each folder name the config expects from this LIST, and whether it came back. */
  expectedFolders?: FolderPresence[];
}

export interface FolderPresence {
  name: string;
  present: boolean;
}

export interface ProbeFacts {
  /** The address connected to (after resolve). */
  address?: string;
  greeting?: string;
  /** The greeting was `* PREAUTH`: the server authenticated the connection itself, so login is skipped. */
  preauth?: boolean;
  /** CAPABILITY on the plaintext connection (greeting code or CAPABILITY); absent with implicit TLS. */
  capabilitiesBeforeTls?: string[];
  /** CAPABILITY once encrypted, before login: the greeting's over implicit TLS, or asked again after STARTTLS. */
  capabilitiesAfterTls?: string[];
  /** The set in force before login, on the final (possibly TLS-upgraded) connection: what the stages check. */
  capabilities?: string[];
  /** After login: the LOGIN/AUTHENTICATE OK's `[CAPABILITY …]`, else asked with CAPABILITY. */
  capabilitiesAfterLogin?: string[];
  tls?: TlsFacts;
  mailbox?: MailboxFacts;
  /** GETQUOTAROOT of the selected mailbox, when the server advertises QUOTA. */
  quota?: QuotaFacts;
  /** The server's NO/BAD to GETQUOTAROOT (recorded, not a failure). */
  quotaRefused?: string;
  /** NAMESPACE after login, when the server advertises it. */
  namespaces?: Namespaces;
  /** The server's NO/BAD to NAMESPACE, or why its answer was unusable (recorded, not a failure). */
  namespaceRefused?: string;
  lists: ListFacts[];
}

export interface QuotaFacts {
  /** The mailbox GETQUOTAROOT asked about (display form). */
  mailbox: string;
  roots: QuotaRoot[];
}

export interface TranscriptEntry {
  /** Milliseconds since the probe started. */
  atMs: number;
  /** C: client to server, S: server to client, '-': an event of ours (TLS handshake, close). */
  direction: 'C' | 'S' | '-';
  text: string;
}

export interface ProbeResult {
  target: string;
  account?: string;
  success: boolean;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  durationSeconds: number;
  /** Reached stages in order; the last one failed when `failure` is set. */
  stages: StageOutcome[];
  failure?: ProbeFailure;
  facts: ProbeFacts;
  /** The dialogue, every password and AUTHENTICATE payload replaced by `***`. */
  transcript: TranscriptEntry[];
  /**
   * The exporter itself failed the probe (it ran out of file descriptors): the failure says
   * nothing about the server, so the daemon logs it, counts it in
   * imap_exporter_errors_total{kind="fd_exhausted"} and does not record the result.
   */
  exporterFault?: 'fd_exhausted';
}

export interface RunProbeOptions {
  /** Aborting ends the probe at once (shutdown); its stage fails with `timeout`. */
  signal?: AbortSignal;
  /** DNS servers and files for the resolve stage; default the system's. */
  resolver?: ResolverConfig;
}

/** The engine's signature: never rejects; every failure is a ProbeResult. */
export type RunProbe = (spec: ProbeSpec, options?: RunProbeOptions) => Promise<ProbeResult>;
