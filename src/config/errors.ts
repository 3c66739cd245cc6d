/** One error type for every way a config can be wrong, listing each problem on its own line. */

export type KeyPath = readonly PropertyKey[];

export interface ConfigProblem {
  /** Where, as written in the file: `targets[1].accounts[0].password_file`; '' for the whole file. */
  path: string;
  /** 1-based line in the file, when the YAML gives one. */
  line?: number;
  /** What was expected, and what was found when that is not secret. */
  message: string;
}

/** `targets[1].accounts[0].password_file` */
export function formatKeyPath(path: KeyPath): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text === '' ? String(segment) : `${text}.${String(segment)}`;
  }, '');
}

/** `file:12: targets[0].port: expected …`, the shape compilers and promtool use. */
export function formatProblem(file: string, problem: ConfigProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}`;
  return problem.path === '' ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const ordered = sortAndDedupe(file, problems);
    super(ordered.map((problem) => formatProblem(file, problem)).join('\n'));
    this.name = 'ConfigError';
    this.file = file;
    this.problems = ordered;
  }
}

/** In file order (problems without a line last), each reported once. */
function sortAndDedupe(file: string, problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return [...problems]
    .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER))
    .filter((problem) => {
      const text = formatProblem(file, problem);
      if (seen.has(text)) return false;
      seen.add(text);
      return true;
    });
}
