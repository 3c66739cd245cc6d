import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DovecotServer } from '../fixtures/dovecot.js';

/** The wrong password of the `bob-wrong` account: tests grep every output for it. */
export const WRONG_PASSWORD = 'wrong-password-31337';

/** alice.pw (the right password) and wrong.pw, beside the config in the Dovecot dir. */
export async function writePasswordFiles(dovecot: DovecotServer): Promise<void> {
  await writeFile(join(dovecot.dir, 'alice.pw'), `${dovecot.accounts.alice.password}\n`);
  await writeFile(join(dovecot.dir, 'wrong.pw'), `${WRONG_PASSWORD}\n`);
}

/** An exporter config: defaults trusting the fixture's CA, then the given target snippets. */
export function exporterConfig(dovecot: DovecotServer, timing: { interval: string; timeout: string }, targets: string[]): string {
  return `defaults:
  interval: ${timing.interval}
  timeout: ${timing.timeout}
  tls_config: { ca_file: ${dovecot.caFile} }
targets:
${targets.join('')}`;
}

/** Target `dovecot` (STARTTLS) with accounts `alice` (good, LIST * and #shared.*) and `bob-wrong`. */
export function dovecotTarget(dovecot: DovecotServer): string {
  return `  - name: dovecot
    host: ${dovecot.imap.host}
    port: ${dovecot.imap.port}
    accounts:
      - username: alice
        password_file: alice.pw
        list: ['*', '#shared.*']
      - username: bob
        name: bob-wrong
        password_file: wrong.pw
`;
}

/** Target `dovecot-imaps`: implicit TLS, unauthenticated. */
export function imapsTarget(dovecot: DovecotServer): string {
  return `  - name: dovecot-imaps
    host: ${dovecot.imaps.host}
    port: ${dovecot.imaps.port}
    tls: tls
`;
}

/** A plain-text unauthenticated target (e.g. a fake server), with optional extra keys. */
export function plainTarget(name: string, server: { host: string; port: number }, extra: Record<string, string> = {}): string {
  const lines = Object.entries(extra).map(([key, value]) => `    ${key}: ${value}\n`).join('');
  return `  - name: ${name}\n    host: ${server.host}\n    port: ${server.port}\n    tls: none\n${lines}`;
}
