/** Reads, validates and resolves one config file into a LoadedConfig, or throws a ConfigError listing every problem. */
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { describeFsError, MIB, readBoundedFile } from '../fs/bounded-read.js';
import type { ProbeJob } from '../probe/types.js';
import { checkReferences, withAbsolutePaths } from './checks.js';
import { ConfigError, formatProblem } from './errors.js';
import { configErrorMap, issueProblems } from './issues.js';
import { buildJobs } from './jobs.js';
import { configSchema, type Config } from './schema.js';
import { YamlSource } from './source.js';

/** A config that passed every check: what a load produces before it is turned into jobs. */
export interface CheckedConfig {
  /** The path as given. */
  path: string;
  /**
   * sha256 (hex) of the file's bytes. Secrets are not in it: a rotated password file needs
   * no reload, since AccountSpec.password re-reads the file when it changes.
   */
  checksum: string;
  config: Config;
  /** `file:line: key.path: message`, for the caller to log; never contain a secret. */
  warnings: string[];
}

export interface LoadedConfig extends CheckedConfig {
  jobs: ProbeJob[];
}

/** Default cap on the config file: a fleet of thousands of targets is well under 1 MiB of YAML. */
export const CONFIG_FILE_MAX_BYTES = 4 * MIB;

export interface LoadOptions {
  /** Larger config files are refused (--config.max-bytes); default CONFIG_FILE_MAX_BYTES. */
  maxBytes?: number;
  /** Where password_env variables are looked up, at load and at every probe. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function loadConfigFile(path: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const checked = await checkConfigFile(path, options);
  return withJobs(checked, options.env ?? process.env);
}

/** The jobs of a checked config; its password readers look `env` up at every probe. */
export function withJobs(checked: CheckedConfig, env: NodeJS.ProcessEnv): LoadedConfig {
  return { ...checked, jobs: buildJobs(checked.config, env) };
}

/** Reads, parses and checks the file: everything a load does but building the jobs (plain data, so a worker thread can do it). */
export async function checkConfigFile(path: string, options: LoadOptions = {}): Promise<CheckedConfig> {
  const env = options.env ?? process.env;
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(path, { maxBytes: options.maxBytes ?? CONFIG_FILE_MAX_BYTES });
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
    warnings: [...source.warnings(), ...findings.warnings].map((warning) => formatProblem(path, warning)),
  };
}
