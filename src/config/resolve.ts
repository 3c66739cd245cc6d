/**
 * Inheritance, as the schema's final transform: every target and account gets every
 * setting, the most specific level winning (defaults → target → account).
 */
import type { z } from 'zod';
import type { ListEntry, ProbeLimits, TlsSettings } from '../probe/types.js';
import { formatDuration } from './duration.js';
import type { RawAccount, RawConfig, RawDefaults, RawTarget } from './schema.js';
import { Secret, type PasswordSource } from './secrets.js';

type Path = (string | number)[];

function tlsSettings(defaults: RawDefaults, own: RawTarget['tls_config'] = {}): TlsSettings {
  const caFile = own.ca_file ?? defaults.tls_config.ca_file;
  const serverName = own.server_name ?? defaults.tls_config.server_name;
  const sessionResumptionMs = own.session_resumption ?? defaults.tls_config.session_resumption;
  return {
    ...(caFile !== undefined && { caFile }),
    ...(serverName !== undefined && { serverName }),
    ...(sessionResumptionMs !== undefined && { sessionResumptionMs }),
    insecureSkipVerify: own.insecure_skip_verify ?? defaults.tls_config.insecure_skip_verify,
  };
}

function limits(defaults: RawDefaults, own: RawTarget['limits'] = {}): ProbeLimits {
  return {
    maxLineBytes: own.max_line_bytes ?? defaults.limits.max_line_bytes,
    maxLiteralBytes: own.max_literal_bytes ?? defaults.limits.max_literal_bytes,
    maxResponsesPerCommand: own.max_responses ?? defaults.limits.max_responses,
  };
}

function passwordSource(account: RawAccount): PasswordSource {
  if (account.password_file !== undefined) return { kind: 'file', path: account.password_file };
  if (account.password_env !== undefined) return { kind: 'env', variable: account.password_env };
  return { kind: 'inline', secret: new Secret(account.password ?? '') };
}

type LoginKey = 'interval' | 'timeout' | 'auth' | 'allow_plaintext_auth' | 'mailbox' | 'expect' | 'list';
type LoginLevel = Partial<Pick<RawDefaults, LoginKey>>;

/** The settings an account may override, each from the first level (most specific first) that sets it. */
function loginSettings(levels: LoginLevel[], defaults: RawDefaults) {
  const pick = <K extends LoginKey>(key: K): RawDefaults[K] => {
    for (const level of levels) {
      const value = level[key];
      if (value !== undefined) return value as RawDefaults[K];
    }
    return defaults[key];
  };
  return {
    intervalMs: pick('interval'),
    timeoutMs: pick('timeout'),
    auth: pick('auth'),
    allowPlaintextAuth: pick('allow_plaintext_auth'),
    mailbox: pick('mailbox'),
    expect: pick('expect'),
    list: pick('list') satisfies ListEntry[],
  };
}

/**
 * A timeout at or beyond the interval means a probe may still run when the next is due:
 * an error, reported at the most specific level that wrote either value.
 */
function checkTimeoutBelowInterval(
  settings: { intervalMs: number; timeoutMs: number },
  levels: { path: Path; values: { interval?: unknown; timeout?: unknown } }[],
  ctx: z.RefinementCtx,
): void {
  if (settings.timeoutMs < settings.intervalMs) return;
  const level = levels.find((l) => l.values.timeout !== undefined || l.values.interval !== undefined) ?? levels.at(-1);
  if (!level) return;
  const key = level.values.timeout !== undefined ? 'timeout' : 'interval';
  ctx.addIssue({
    code: 'custom',
    path: [...level.path, key],
    message:
      `expected timeout (${formatDuration(settings.timeoutMs)}) shorter than interval (${formatDuration(settings.intervalMs)}),` +
      ' or a probe could still be running when the next is due',
  });
}

export function resolveConfig(raw: RawConfig, ctx: z.RefinementCtx<RawConfig>) {
  const { defaults } = raw;
  const targets = raw.targets.map((target, t) => {
    const tls = target.tls ?? defaults.tls;
    const settings = loginSettings([target], defaults);
    const targetLevels = [
      { path: ['targets', t], values: target },
      { path: ['defaults'], values: defaults },
    ];
    if (target.accounts.length === 0) checkTimeoutBelowInterval(settings, targetLevels, ctx);
    const accounts = target.accounts.map((account, a) => {
      const own = loginSettings([account, target], defaults);
      checkTimeoutBelowInterval(own, [{ path: ['targets', t, 'accounts', a], values: account }, ...targetLevels], ctx);
      return { name: account.name ?? account.username, username: account.username, ...own, password: passwordSource(account) };
    });
    return {
      name: target.name,
      host: target.host,
      port: target.port ?? (tls === 'tls' ? 993 : 143),
      tls,
      tlsConfig: tlsSettings(defaults, target.tls_config),
      limits: limits(defaults, target.limits),
      ...settings,
      accounts,
    };
  });
  return {
    defaults: {
      tls: defaults.tls,
      tlsConfig: tlsSettings(defaults),
      limits: limits(defaults),
      ...loginSettings([], defaults),
    },
    targets,
    metrics: { latencyPhases: [...new Set(raw.metrics.latency_histogram.phases)] },
  };
}
