/**
 * What the schema cannot see: files and environment variables the config refers to, and
 * settings that are valid but will not do what the user wants (warnings).
 */
import { isAbsolute, resolve } from 'node:path';
import { formatKeyPath, type ConfigProblem, type KeyPath } from './errors.js';
import type { Config } from './schema.js';
import { describeFsError } from '../fs/bounded-read.js';
import { readCaBundle } from '../fs/ca-bundle.js';
import { checkPasswordSource } from './secrets.js';
import type { YamlSource } from './source.js';

/** Relative file paths are relative to the config file, as in Prometheus. */
export function withAbsolutePaths(config: Config, baseDir: string): Config {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const tlsConfig = <T extends { caFile?: string }>(tls: T): T =>
    tls.caFile === undefined ? tls : { ...tls, caFile: absolute(tls.caFile) };
  return {
    ...config,
    defaults: { ...config.defaults, tlsConfig: tlsConfig(config.defaults.tlsConfig) },
    targets: config.targets.map((target) => ({
      ...target,
      tlsConfig: tlsConfig(target.tlsConfig),
      accounts: target.accounts.map((account) =>
        account.password.kind === 'file'
          ? { ...account, password: { kind: 'file', path: absolute(account.password.path) } }
          : account,
      ),
    })),
  };
}

export interface CheckFindings {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

async function checkCaFile(path: string): Promise<string | undefined> {
  try {
    await readCaBundle(path);
    return undefined;
  } catch (error) {
    return `cannot read CA file ${path}: ${describeFsError(error)}`;
  }
}

export async function checkReferences(config: Config, env: NodeJS.ProcessEnv, source: YamlSource): Promise<CheckFindings> {
  const findings: CheckFindings = { problems: [], warnings: [] };
  const at = (path: KeyPath, message: string): ConfigProblem => ({ path: formatKeyPath(path), line: source.lineOf(path), message });

  // A target inheriting the defaults' CA file is reported once, at the defaults.
  const defaultCa = config.defaults.tlsConfig.caFile;
  const caFiles: [KeyPath, string][] = defaultCa ? [[['defaults', 'tls_config', 'ca_file'], defaultCa]] : [];
  config.targets.forEach((target, t) => {
    const ca = target.tlsConfig.caFile;
    if (ca !== undefined && ca !== defaultCa) caFiles.push([['targets', t, 'tls_config', 'ca_file'], ca]);
  });
  for (const [path, file] of caFiles) {
    const error = await checkCaFile(file);
    if (error) findings.problems.push(at(path, error));
  }

  for (const [t, target] of config.targets.entries()) {
    for (const [a, account] of target.accounts.entries()) {
      const accountPath = ['targets', t, 'accounts', a];
      const sourceKey = { file: 'password_file', env: 'password_env', inline: 'password' }[account.password.kind];
      const { error, warning } = await checkPasswordSource(account.password, env);
      if (error) findings.problems.push(at([...accountPath, sourceKey], error));
      if (warning) findings.warnings.push(at([...accountPath, sourceKey], warning));
      if (account.password.kind === 'inline') {
        findings.warnings.push(
          at([...accountPath, 'password'], 'a password in the config file is discouraged: use password_file or password_env'),
        );
      }
      if (target.tls === 'none' && !account.allowPlaintextAuth) {
        findings.warnings.push(
          at(accountPath, 'tls is none and allow_plaintext_auth is false: every login will fail with plaintext_refused'),
        );
      }
    }
  }

  if (config.targets.length === 0) {
    findings.warnings.push({ path: 'targets', line: source.lineOf(['targets']), message: 'no targets: the exporter will probe nothing' });
  }
  return findings;
}
