/** The config as work for the scheduler: one ProbeJob per target without accounts, or per (target, account). */
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
    expect: { ...account.expect },
    list: account.list.map((entry) => ({ ...entry })),
    password: password(account.password),
  };
}

function probeSpec(target: TargetConfig, timeoutMs: number, account?: AccountSpec): ProbeSpec {
  return {
    target: target.name,
    host: target.host,
    port: target.port,
    tls: target.tls,
    tlsConfig: { ...target.tlsConfig },
    timeoutMs,
    ...(account && { account }),
    limits: { ...target.limits },
  };
}

export function buildJobs(config: Config, env: NodeJS.ProcessEnv): ProbeJob[] {
  const password = passwordReaders(env);
  return config.targets.flatMap((target): ProbeJob[] => {
    if (target.accounts.length === 0) {
      return [{ key: target.name, target: target.name, intervalMs: target.intervalMs, spec: probeSpec(target, target.timeoutMs) }];
    }
    return target.accounts.map((account) => ({
      key: `${target.name}/${account.name}`,
      target: target.name,
      account: account.name,
      intervalMs: account.intervalMs,
      spec: probeSpec(target, account.timeoutMs, accountSpec(account, password)),
    }));
  });
}
