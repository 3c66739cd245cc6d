/**
 * Zod issues in the words of a config file: `missing required key`, `unknown key`,
 * `expected a list, got a string`. A message never quotes a value from the file (the line
 * number shows it): a password typed under the wrong key must not end up in a log.
 */
import type { z } from 'zod';
import { formatKeyPath, type ConfigProblem } from './errors.js';
import type { YamlSource } from './source.js';

const EXPECTED_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'object':
      return 'a mapping';
    case 'boolean':
      return 'true/false';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    default:
      return typeof value;
  }
}

/** The keys a strict object accepts, to say what was expected instead of an unknown one. */
function knownKeys(issue: { inst?: unknown }): string[] {
  // Only the error map sees the schema instance; the final issue no longer carries it.
  const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

/** The per-parse error map: messages for issues the schema does not word itself. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'missing required key';
      const expected = EXPECTED_WORDS[issue.expected] ?? issue.expected;
      return `expected ${expected}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys': {
      const known = knownKeys(issue);
      return known.length > 0 ? `unknown key (expected one of ${known.join(', ')})` : 'unknown key';
    }
    default:
      return undefined;
  }
};

export function issueProblems(issues: readonly z.core.$ZodIssue[], source: YamlSource): ConfigProblem[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        return { path: formatKeyPath(path), line: source.lineOf(path), message: issue.message };
      });
    }
    if (issue.path.length === 0 && issue.code === 'invalid_type') {
      return [{ path: '', line: source.lineOf([]), message: 'expected a mapping with `defaults` and `targets` at the top of the file' }];
    }
    return [{ path: formatKeyPath(issue.path), line: source.lineOf(issue.path), message: issue.message }];
  });
}
