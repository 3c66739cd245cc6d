import type { AccountSpec, ProbeJob } from '../../src/probe/types.js';

/** A job as the config would build it: key `target` or `target/account`, a STARTTLS spec without secrets. */
export function testJob(target: string, account?: string): ProbeJob {
  return {
    key: account === undefined ? target : `${target}/${account}`,
    target,
    account,
    intervalMs: 60_000,
    spec: { target, host: 'imap.example.com', port: 143, tls: 'starttls', tlsConfig: { insecureSkipVerify: false }, timeoutMs: 10_000 },
  };
}

/** A LOGIN of a test server's account: INBOX, then LIST "" "*" and "#shared.*". */
export function loginAccount(
  name: string,
  credentials: { username: string; password: string },
  overrides: Partial<AccountSpec> = {},
): AccountSpec {
  return {
    name,
    username: credentials.username,
    auth: 'login',
    allowPlaintextAuth: false,
    mailbox: 'INBOX',
    list: [
      { reference: '', pattern: '*' },
      { reference: '', pattern: '#shared.*' },
    ],
    password: () => Promise.resolve(credentials.password),
    ...overrides,
  };
}
