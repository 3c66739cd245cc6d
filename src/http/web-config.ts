/**
 * The `--web.config.file` format of Prometheus's exporter-toolkit, so one file written for
 * node_exporter or blackbox_exporter works here: `tls_server_config`, `http_server_config`
 * and `basic_auth_users` (bcrypt hashes). This module is the schema and its checks; reading
 * the files it names is web-config-load.ts.
 */
import { z } from 'zod';
import { ConfigError, formatKeyPath } from '../config/errors.js';
import { configErrorMap, issueProblems } from '../config/issues.js';
import { YamlSource } from '../config/source.js';

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'RequireClientCert', // exporter-toolkit keeps this old spelling of RequireAnyClientCert
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** exporter-toolkit's version names → Node's. */
export const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
export type TlsVersionName = keyof typeof TLS_VERSIONS;

/**
 * Go's names (crypto/tls CipherSuites()) → OpenSSL's, for TLS 1.2 and earlier. As in Go, the
 * TLS 1.3 suites are accepted but not configurable: they are always on.
 */
export const CIPHER_SUITES: Record<string, string | null> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
};

/** Go's curve names → OpenSSL's. */
export const CURVES = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' } as const;

/** The headers exporter-toolkit lets a file set, with the values it accepts (empty: any). */
export const ALLOWED_HEADERS: Record<string, readonly string[]> = {
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
  'Content-Security-Policy': [],
};

const oneOf = <T extends string>(values: readonly T[]) => z.enum(values as [T, ...T[]]);

const tlsServerSchema = z
  .object({
    cert: z.string().optional(),
    key: z.string().optional(),
    client_ca: z.string().optional(),
    cert_file: z.string().optional(),
    key_file: z.string().optional(),
    client_auth_type: oneOf(CLIENT_AUTH_TYPES).optional(),
    client_ca_file: z.string().optional(),
    client_allowed_sans: z.array(z.string()).optional(),
    min_version: oneOf(Object.keys(TLS_VERSIONS) as TlsVersionName[]).default('TLS12'),
    max_version: oneOf(Object.keys(TLS_VERSIONS) as TlsVersionName[]).default('TLS13'),
    cipher_suites: z.array(oneOf(Object.keys(CIPHER_SUITES))).optional(),
    prefer_server_cipher_suites: z.boolean().default(true),
    curve_preferences: z.array(oneOf(Object.keys(CURVES) as (keyof typeof CURVES)[])).optional(),
  })
  .strict();

const webConfigSchema = z
  .object({
    tls_server_config: tlsServerSchema.optional(),
    http_server_config: z
      .object({
        // Accepted for files written for Go exporters; this server speaks HTTP/1.1 only.
        http2: z.boolean().optional(),
        headers: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    basic_auth_users: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export type TlsServerConfig = z.infer<typeof tlsServerSchema>;
export type WebConfigFile = z.infer<typeof webConfigSchema>;

/** exporter-toolkit's rule: TLS is on once any certificate, key, CA or client-auth key is set. */
export function tlsEnabled(tls: TlsServerConfig): boolean {
  return [tls.cert, tls.key, tls.cert_file, tls.key_file, tls.client_ca, tls.client_ca_file, tls.client_auth_type].some(
    (v) => v !== undefined && v !== '',
  );
}

/** Parses and checks the text of a web config file; throws a ConfigError naming file, line, key and what was expected. */
export function parseWebConfig(file: string, text: string): WebConfigFile {
  const source = new YamlSource(text);
  const syntax = source.syntaxProblems();
  if (syntax.length > 0) throw new ConfigError(file, syntax);
  const data = source.toData();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, [{ path: '', line: 1, message: 'expected a mapping of tls_server_config, http_server_config, basic_auth_users' }]);
  }
  const parsed = webConfigSchema.safeParse(data, { error: configErrorMap });
  if (!parsed.success) throw new ConfigError(file, issueProblems(parsed.error.issues, source));
  const problems = semanticProblems(parsed.data);
  if (problems.length > 0) {
    throw new ConfigError(file, problems.map(({ path, message }) => ({ path: formatKeyPath(path), line: source.lineOf(path), message })));
  }
  return parsed.data;
}

type Problem = { path: (string | number)[]; message: string };

/** What the schema cannot say: pairs of keys, header values, bcrypt hash shapes. Never quotes a secret. */
function semanticProblems(config: WebConfigFile): Problem[] {
  const problems: Problem[] = [];
  const tls = config.tls_server_config;
  if (tls && tlsEnabled(tls)) {
    const at = (key: string) => ['tls_server_config', key];
    if (!tls.cert_file && !tls.cert) problems.push({ path: at('cert_file'), message: 'missing one of cert or cert_file' });
    if (!tls.key_file && !tls.key) problems.push({ path: at('key_file'), message: 'missing one of key or key_file' });
    if (tls.cert_file && tls.cert) problems.push({ path: at('cert'), message: 'set cert or cert_file, not both' });
    if (tls.key_file && tls.key) problems.push({ path: at('key'), message: 'set key or key_file, not both' });
    if (tls.client_ca_file && tls.client_ca) problems.push({ path: at('client_ca'), message: 'set client_ca or client_ca_file, not both' });
    const auth = tls.client_auth_type ?? 'NoClientCert';
    const hasCa = Boolean(tls.client_ca_file || tls.client_ca);
    if (hasCa && auth === 'NoClientCert') {
      problems.push({ path: at('client_auth_type'), message: "client CA's have been configured without a client_auth_type (use RequireAndVerifyClientCert)" });
    }
    if (!hasCa && (auth === 'RequireAndVerifyClientCert' || auth === 'VerifyClientCertIfGiven')) {
      problems.push({ path: at('client_ca_file'), message: `client_auth_type ${auth} needs client_ca_file or client_ca` });
    }
    const versions = Object.keys(TLS_VERSIONS);
    if (versions.indexOf(tls.min_version) > versions.indexOf(tls.max_version)) {
      problems.push({ path: at('min_version'), message: `min_version ${tls.min_version} is above max_version ${tls.max_version}` });
    }
  } else if (tls && (tls.client_allowed_sans || tls.cipher_suites || tls.curve_preferences)) {
    problems.push({ path: ['tls_server_config'], message: 'TLS settings without cert_file and key_file (TLS is off)' });
  }
  for (const [name, value] of Object.entries(config.http_server_config?.headers ?? {})) {
    const allowed = ALLOWED_HEADERS[name];
    if (!allowed) {
      problems.push({ path: ['http_server_config', 'headers', name], message: `this header can not be configured (expected one of ${Object.keys(ALLOWED_HEADERS).join(', ')})` });
    } else if (allowed.length > 0 && !allowed.includes(value)) {
      problems.push({ path: ['http_server_config', 'headers', name], message: `expected one of ${allowed.join(', ')}` });
    }
  }
  for (const [user, hash] of Object.entries(config.basic_auth_users ?? {})) {
    // The value is a secret's hash: say what is wrong with it without repeating it.
    if (!/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
      problems.push({ path: ['basic_auth_users', user], message: 'expected a bcrypt hash ($2y$10$…, e.g. from htpasswd -nBC 10 "" | tr -d \':\\n\')' });
    } else if (Number(hash.split('$')[2]) < 4 || Number(hash.split('$')[2]) > 31) {
      problems.push({ path: ['basic_auth_users', user], message: 'bcrypt cost must be between 4 and 31' });
    }
  }
  return problems;
}
