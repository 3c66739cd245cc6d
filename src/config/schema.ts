/**
 * The one definition of the config file (CONTRACT §4): zod schemas with the defaults in
 * them, cross-field checks as refinements, and the types derived with z.output. The final
 * transform resolves inheritance (built-in → defaults → target → account), so `Config` is
 * what the rest of the exporter reads: every value filled in, durations in milliseconds.
 */
import { z } from 'zod';
import { STAGES } from '../probe/stages.js';
import { DURATION_EXPECTED, parseDuration } from './duration.js';
import { configErrorMap } from './issues.js';
import { NAMESPACE_TYPES } from '../imap/commands/namespace.js';
import type { ListEntry, ListExpectation, ListRequest, NamespaceListRequest, SelectExpectation } from '../probe/types.js';
import { resolveConfig } from './resolve.js';

// Node timers overflow past ~24.8 days; a probe less often than daily is not monitoring.
const MAX_INTERVAL_MS = 24 * 3_600_000;

function duration(bounds: { minMs: number; maxMs: number; tooSmall: string; tooLarge: string }) {
  return z
    .string({
      error: (issue) =>
        typeof issue.input === 'number'
          ? `${DURATION_EXPECTED}, got a number without a unit`
          : DURATION_EXPECTED,
    })
    .transform((text, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: DURATION_EXPECTED });
        return z.NEVER;
      }
      if (ms < bounds.minMs) ctx.addIssue({ code: 'custom', message: bounds.tooSmall });
      if (ms > bounds.maxMs) ctx.addIssue({ code: 'custom', message: bounds.tooLarge });
      return ms;
    });
}

const interval = duration({
  minMs: 1_000,
  maxMs: MAX_INTERVAL_MS,
  tooSmall: 'expected an interval of at least 1s',
  tooLarge: 'expected an interval of at most 24h',
});
const timeout = duration({
  minMs: 1,
  maxMs: MAX_INTERVAL_MS,
  tooSmall: 'expected a timeout greater than 0',
  tooLarge: 'expected a timeout of at most 24h',
});

// YAML reads `targets:` with every entry commented out as null: treat it as absent.
const emptyAsAbsent = <T extends z.ZodType>(schema: T) => z.preprocess((value) => value ?? undefined, schema);

const nonEmpty = z.string().min(1, { error: 'expected a non-empty string' });
const tlsMode = z.enum(['tls', 'starttls', 'none']);
const auth = z.enum(['login', 'plain', 'cram-md5', 'xoauth2']);
const PORT_EXPECTED = 'expected a port number from 1 to 65535';
const port = z
  .number({ error: PORT_EXPECTED })
  .int({ error: PORT_EXPECTED })
  .min(1, { error: PORT_EXPECTED })
  .max(65535, { error: PORT_EXPECTED });

const host = nonEmpty.refine((text) => !/[\s/]/.test(text) && (text.match(/:/g) ?? []).length !== 1, {
  error: 'expected a host name or IP address (the port goes in `port`, no scheme)',
});

// Control and bidirectional-formatting characters in a label value or a log field can hide or
// reorder what an operator reads (NUL, ESC sequences, U+202E "right-to-left override").
const HIDDEN_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

const visibleName = nonEmpty.superRefine((text, ctx) => {
  const found = HIDDEN_CHARACTER.exec(text)?.[0];
  if (found === undefined) return;
  const code = `U+${found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  ctx.addIssue({ code: 'custom', message: `expected a name without control or bidirectional-formatting characters (found ${code})` });
});

const targetName = visibleName.refine((text) => !text.includes('/'), {
  error: 'expected a name without "/" (it separates target and account in job keys)',
});

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: 'expected an environment variable name like IMAP_PASSWORD',
});

const COUNT_EXPECTED = 'expected a whole number, 0 or more';
const count = z.number({ error: COUNT_EXPECTED }).int({ error: COUNT_EXPECTED }).min(0, { error: COUNT_EXPECTED });

/** A list entry's `min_folders` and `folders` as its `expect`, left out when it expects nothing. */
function listExpectation({ min_folders, folders }: { min_folders?: number | undefined; folders?: string[] | undefined }): { expect?: ListExpectation } {
  const expect: ListExpectation = {
    ...(min_folders !== undefined && { minFolders: min_folders }),
    ...(folders !== undefined && { folders }),
  };
  return Object.keys(expect).length === 0 ? {} : { expect };
}

// A LIST pattern and what it must return; the expectations become `expect` (ListRequest).
const patternEntry = z
  .strictObject(
    {
      reference: z.string().default(''),
      pattern: z.string(),
      min_folders: count.optional(),
      folders: z.array(nonEmpty).min(1, { error: 'expected at least one folder name' }).optional(),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type' ? 'expected a pattern string or {pattern, reference, min_folders, folders}' : undefined,
    },
  )
  .transform(({ reference, pattern, ...expected }): ListRequest => ({ reference, pattern, ...listExpectation(expected) }));
// `{namespace: shared}`: LIST "" "<prefix>*" for each prefix of that kind NAMESPACE announced (probe/list-requests.ts).
const namespaceEntry = z
  .strictObject({
    namespace: z.enum(NAMESPACE_TYPES, { error: `expected one of ${NAMESPACE_TYPES.join(', ')}` }),
    min_folders: count.optional(),
    folders: z.array(nonEmpty).min(1, { error: 'expected at least one folder name' }).optional(),
  })
  .transform(({ namespace, ...expected }): NamespaceListRequest => ({ namespace, ...listExpectation(expected) }));
// A bare string is a pattern under the empty reference: `'*'` means LIST "" "*". An object
// with a `namespace` key is the namespace form, any other value the pattern form: chosen
// here rather than by z.union, whose error for a bad entry would be a bare "Invalid input".
const listEntry = z.unknown().transform((value, ctx): ListEntry => {
  const entry = typeof value === 'string' ? { pattern: value } : value;
  const form = typeof entry === 'object' && entry !== null && 'namespace' in entry ? namespaceEntry : patternEntry;
  // Parsed on its own, so it needs the config's error map to word its issues as the rest are.
  const parsed = form.safeParse(entry, { error: configErrorMap });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: entry } as (typeof ctx.issues)[number]);
  return z.NEVER;
});
// An empty list is allowed: it skips LIST after a successful SELECT.
const list = z.array(listEntry);

// What SELECT must show; `{}`, or `expect:` with every key commented out (null), expects nothing.
const selectExpect = z.preprocess(
  (value) => (value === null ? {} : value),
  z
    .strictObject(
      { min_messages: count.optional() },
      { error: (issue) => (issue.code === 'invalid_type' ? 'expected {min_messages: N}' : undefined) },
    )
    .transform(({ min_messages }): SelectExpectation => (min_messages === undefined ? {} : { minMessages: min_messages })),
);

const bytes = (min: number) =>
  z.number().int({ error: 'expected a whole number of bytes' }).min(min, { error: `expected at least ${min}` });
const responses = z.number().int({ error: 'expected a whole number' }).min(1, { error: 'expected at least 1' });

// Beyond CONTRACT §4: opt-in TLS session resumption, with a full handshake (and so a fresh
// look at the certificate) at least this often.
const sessionResumption = duration({
  minMs: 1_000,
  maxMs: MAX_INTERVAL_MS,
  tooSmall: 'expected a full handshake interval of at least 1s',
  tooLarge: 'expected a full handshake interval of at most 24h',
});

const tlsConfigShape = {
  ca_file: nonEmpty,
  server_name: nonEmpty,
  insecure_skip_verify: z.boolean(),
  session_resumption: sessionResumption,
};

const limitsShape = {
  max_line_bytes: bytes(1024),
  max_literal_bytes: bytes(1024),
  max_responses: responses,
};

const defaultsSchema = z.strictObject({
  interval: interval.prefault('60s'),
  timeout: timeout.prefault('10s'),
  tls: tlsMode.default('starttls'),
  tls_config: z
    .strictObject(tlsConfigShape)
    .partial()
    .extend({ insecure_skip_verify: tlsConfigShape.insecure_skip_verify.default(false) })
    .prefault({}),
  auth: auth.default('login'),
  allow_plaintext_auth: z.boolean().default(false),
  mailbox: nonEmpty.default('INBOX'),
  expect: selectExpect.prefault({}),
  list: list.prefault(['*']),
  // Beyond CONTRACT §4: the bounds on what a server may send (ProbeLimits).
  limits: z
    .strictObject({
      max_line_bytes: limitsShape.max_line_bytes.default(65_536),
      max_literal_bytes: limitsShape.max_literal_bytes.default(1_048_576),
      max_responses: limitsShape.max_responses.default(10_000),
    })
    .prefault({}),
});

/** What an account may override: the settings of its own login, not of the connection. */
const accountOverrides = {
  interval: interval.optional(),
  timeout: timeout.optional(),
  auth: auth.optional(),
  allow_plaintext_auth: z.boolean().optional(),
  mailbox: nonEmpty.optional(),
  expect: selectExpect.optional(),
  list: list.optional(),
};

/** A target may override every key of `defaults`; tls_config and limits merge key by key. */
const targetOverrides = {
  ...accountOverrides,
  tls: tlsMode.optional(),
  tls_config: z.strictObject(tlsConfigShape).partial().optional(),
  limits: z.strictObject(limitsShape).partial().optional(),
};

const PASSWORD_KEYS = ['password_file', 'password_env', 'password'] as const;

const accountSchema = z
  .strictObject({
    // The default `account` label value, so held to the same rule as `name`.
    username: visibleName,
    // The `account` label value; defaults to the username.
    name: visibleName.optional(),
    password_file: nonEmpty.optional(),
    password_env: envVarName.optional(),
    // Discouraged (a warning at load): the secret then lives in the config file.
    password: z.string().optional(),
    ...accountOverrides,
  })
  .superRefine(
    (account, ctx) => {
      if (!isRecord(account)) return;
      const given = PASSWORD_KEYS.filter((key) => account[key] !== undefined);
      if (given.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'expected one of password_file, password_env or password' });
      }
      for (const key of given.slice(1)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `expected only one of password_file, password_env, password (${given[0]} is already set)`,
        });
      }
    },
    { when: () => true },
  );

const targetSchema = z
  .strictObject({
    name: targetName,
    host,
    // Defaults from tls: 993 for implicit TLS, 143 otherwise.
    port: port.optional(),
    accounts: emptyAsAbsent(z.array(accountSchema).default([])),
    ...targetOverrides,
  })
  .superRefine(
    (target, ctx) => {
      if (!isRecord(target)) return;
      reportDuplicateNames(target.accounts, ctx, ['accounts'], (account) => {
        const key = account.name !== undefined ? 'name' : 'username';
        return { name: account[key], key };
      }, (name) => `duplicate account name "${name}" in this target (set \`name\` to tell them apart)`);
    },
    { when: () => true },
  );

// What /metrics carries beyond the per-probe series; exporter-wide (not per target).
const metricsSchema = z.strictObject({
  latency_histogram: z
    .strictObject({
      // imap_probe_phase_latency_seconds is ~45 of a job's ~52 series: a large installation may keep
      // only the phases it alerts or graphs on, or none ([]).
      phases: z.array(z.enum(STAGES)).default([...STAGES]),
    })
    .prefault({}),
});

const rawConfigSchema = z
  .strictObject({
    defaults: emptyAsAbsent(defaultsSchema.prefault({})),
    metrics: emptyAsAbsent(metricsSchema.prefault({})),
    targets: emptyAsAbsent(z.array(targetSchema).default([])),
  })
  .superRefine(
    (config, ctx) => {
      if (!isRecord(config)) return;
      reportDuplicateNames(config.targets, ctx, ['targets'], (target) => ({ name: target.name, key: 'name' }),
        (name) => `duplicate target name "${name}"`);
    },
    { when: () => true },
  );

export const configSchema = rawConfigSchema.transform(resolveConfig);

export type RawConfig = z.output<typeof rawConfigSchema>;
export type RawDefaults = RawConfig['defaults'];
export type RawTarget = RawConfig['targets'][number];
export type RawAccount = RawTarget['accounts'][number];

/** The loaded config: inheritance resolved, durations in ms, file paths absolute (load.ts). */
export type Config = z.output<typeof configSchema>;
export type TargetConfig = Config['targets'][number];
export type AccountConfig = TargetConfig['accounts'][number];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Refinements run even when other keys failed (`when`), so every problem is reported in
 * one pass; the input may therefore be malformed, hence the defensive reads.
 */
function reportDuplicateNames(
  items: unknown,
  ctx: z.RefinementCtx,
  prefix: (string | number)[],
  nameOf: (item: Record<string, unknown>) => { name: unknown; key: string },
  message: (name: string) => string,
): void {
  if (!Array.isArray(items)) return;
  const firstIndex = new Map<string, number>();
  items.forEach((item: unknown, index) => {
    if (!isRecord(item)) return;
    const { name, key } = nameOf(item);
    if (typeof name !== 'string') return;
    const first = firstIndex.get(name);
    if (first === undefined) {
      firstIndex.set(name, index);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: [...prefix, index, key],
      message: `${message(name)}, already used by ${prefix.join('.')}[${first}]`,
    });
  });
}
