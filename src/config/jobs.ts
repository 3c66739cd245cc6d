/** The config as work for the scheduler: one ProbeJob per target without accounts, or per (target, account). */
import { flat } from '../flat-string.js';
import type { AccountSpec, ProbeJob, ProbeSpec } from '../probe/types.js';
import type { AccountConfig, Config, TargetConfig } from './schema.js';
import { passwordReaders, type PasswordSource } from './secrets.js';

function accountSpec(account: AccountConfig, password: (source: PasswordSource) => () => Promise<string>): AccountSpec {
  return {
    name: account.name,
    username: account.username,
    auth: account.auth,
    allowPlaintextAuth: account.allowPlaintextAuth,
    mailbox: account.mailbox,
    // The config's own, not copies: it lives as long as its jobs, and nothing changes either.
    expect: account.expect,
    list: account.list,
    password: password(account.password),
  };
}

/** What every job of a target shares: one object each, not one per account. */
interface TargetShared {
  tlsConfig: ProbeSpec['tlsConfig'];
  limits: NonNullable<ProbeSpec['limits']>;
}

function probeSpec(target: TargetConfig, shared: TargetShared, timeoutMs: number, account?: AccountSpec): ProbeSpec {
  return {
    target: target.name,
    host: target.host,
    port: target.port,
    tls: target.tls,
    tlsConfig: shared.tlsConfig,
    timeoutMs,
    ...(account && { account }),
    limits: shared.limits,
  };
}

export function buildJobs(config: Config, env: NodeJS.ProcessEnv): ProbeJob[] {
  const password = passwordReaders(env);
  return config.targets.flatMap((target): ProbeJob[] => {
    const shared: TargetShared = { tlsConfig: Object.freeze({ ...target.tlsConfig }), limits: Object.freeze({ ...target.limits }) };
    if (target.accounts.length === 0) {
      return [{ key: target.name, target: target.name, intervalMs: target.intervalMs, spec: probeSpec(target, shared, target.timeoutMs) }];
    }
    return target.accounts.map((account) => ({
      key: flat(`${target.name}/${account.name}`), // kept per job, in several maps and sets
      target: target.name,
      account: account.name,
      intervalMs: account.intervalMs,
      spec: probeSpec(target, shared, account.timeoutMs, accountSpec(account, password)),
    }));
  });
}
