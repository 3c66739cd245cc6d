/** Reads, validates and resolves one config file into a LoadedConfig, or throws a ConfigError listing every problem. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ProbeJob } from '../probe/types.js';
import { checkReferences, withAbsolutePaths } from './checks.js';
import { ConfigError, formatProblem } from './errors.js';
import { configErrorMap, issueProblems } from './issues.js';
import { buildJobs } from './jobs.js';
import { configSchema, type Config } from './schema.js';
import { describeFsError } from './secrets.js';
import { YamlSource } from './source.js';

export interface LoadedConfig {
  /** The path as given. */
  path: string;
  /**
   * sha256 (hex) of the file's bytes. Secrets are not in it: a rotated password file needs
   * no reload, since AccountSpec.password re-reads the file when it changes.
   */
  checksum: string;
  config: Config;
  jobs: ProbeJob[];
  /** `file:line: key.path: message`, for the caller to log; never contain a secret. */
  warnings: string[];
}

export interface LoadOptions {
  /** Where password_env variables are looked up, at load and at every probe. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function loadConfigFile(path: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the config file: ${describeFsError(error)}` }]);
  }

  const source = new YamlSource(bytes.toString('utf8'));
  const syntaxProblems = source.syntaxProblems();
  if (syntaxProblems.length > 0) throw new ConfigError(path, syntaxProblems);

  let data: unknown;
  try {
    data = source.toData();
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: `invalid YAML: ${(error as Error).message}` }]);
  }

  const parsed = configSchema.safeParse(data, { error: configErrorMap });
  if (!parsed.success) throw new ConfigError(path, issueProblems(parsed.error.issues, source));

  const config = withAbsolutePaths(parsed.data, dirname(resolve(path)));
  const findings = await checkReferences(config, env, source);
  if (findings.problems.length > 0) throw new ConfigError(path, findings.problems);

  return {
    path,
    checksum: createHash('sha256').update(bytes).digest('hex'),
    config,
    jobs: buildJobs(config, env),
    warnings: [...source.warnings(), ...findings.warnings].map((warning) => formatProblem(path, warning)),
  };
}
