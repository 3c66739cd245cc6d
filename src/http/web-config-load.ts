/**
 * Loads a web config file and everything it names (certificate, key, client CA) into the
 * settings the HTTP server applies: a TLS SecureContext and its client-certificate policy,
 * the bcrypt users, the extra headers. Any problem is a ConfigError that names the file,
 * the key and what was expected; nothing is half-applied.
 */
import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../config/errors.js';
import { describeFsError, readBoundedFile } from '../fs/bounded-read.js';
import {
  CIPHER_SUITES,
  CURVES,
  TLS_VERSIONS,
  parseWebConfig,
  tlsEnabled,
  type ClientAuthType,
  type TlsServerConfig,
  type WebConfigFile,
} from './web-config.js';

// A web config, a certificate chain or a CA bundle is kilobytes; a megabyte is already absurd.
const MAX_FILE_BYTES = 1024 * 1024;

export interface ClientCertPolicy {
  /** Ask the client for a certificate during the handshake. */
  request: boolean;
  /** Refuse the handshake unless the certificate is present and verifies against the client CA. */
  requireVerified: boolean;
  /** Refuse a connection without a certificate (verified or not). */
  requirePresent: boolean;
  /** Refuse a presented certificate that does not verify. */
  rejectUnverified: boolean;
  /** When set, one of the certificate's SANs must be in this list. */
  allowedSans?: readonly string[];
}

export interface WebTlsSettings {
  context: SecureContext;
  /** The options the context was made from (server-level ones like minVersion are re-applied on reload). */
  options: SecureContextOptions;
  clientAuth: ClientCertPolicy;
  clientAuthType: ClientAuthType;
}

export interface WebSettings {
  file: string;
  tls?: WebTlsSettings;
  /** user → bcrypt hash; empty: no authentication. */
  users: ReadonlyMap<string, string>;
  headers: Readonly<Record<string, string>>;
  /** Every file this config was built from, to watch for changes. */
  files: readonly string[];
}

/** No --web.config.file: plain HTTP, no authentication, no extra headers. */
export const OPEN_WEB_SETTINGS: WebSettings = { file: '', users: new Map(), headers: {}, files: [] };

export async function loadWebConfig(file: string): Promise<WebSettings> {
  const config = parseWebConfig(file, (await readConfigFile(file, file, '')).toString('utf8'));
  const dir = dirname(resolve(file));
  const tlsConfig = config.tls_server_config;
  const files = [resolve(file)];
  let tls: WebTlsSettings | undefined;
  if (tlsConfig && tlsEnabled(tlsConfig)) {
    const read = async (key: 'cert_file' | 'key_file' | 'client_ca_file'): Promise<Buffer | undefined> => {
      const path = tlsConfig[key];
      if (!path) return undefined;
      const absolute = resolve(dir, path);
      files.push(absolute);
      return readConfigFile(file, absolute, `tls_server_config.${key}`);
    };
    const cert = (await read('cert_file')) ?? Buffer.from(tlsConfig.cert ?? '');
    const key = (await read('key_file')) ?? Buffer.from(tlsConfig.key ?? '');
    const ca = (await read('client_ca_file')) ?? (tlsConfig.client_ca ? Buffer.from(tlsConfig.client_ca) : undefined);
    tls = buildTls(file, tlsConfig, { cert, key, ca });
  }
  return { file, tls, users: new Map(Object.entries(config.basic_auth_users ?? {})), headers: headersOf(config), files };
}

function headersOf(config: WebConfigFile): Record<string, string> {
  // A blank value means "unset", as in exporter-toolkit.
  return Object.fromEntries(Object.entries(config.http_server_config?.headers ?? {}).filter(([, v]) => v !== ''));
}

function buildTls(file: string, config: TlsServerConfig, pem: { cert: Buffer; key: Buffer; ca?: Buffer }): WebTlsSettings {
  const ciphers = (config.cipher_suites ?? []).map((name) => CIPHER_SUITES[name]).filter((c): c is string => Boolean(c));
  const options: SecureContextOptions = {
    cert: pem.cert,
    key: pem.key,
    ...(pem.ca ? { ca: pem.ca } : {}),
    minVersion: TLS_VERSIONS[config.min_version],
    maxVersion: TLS_VERSIONS[config.max_version],
    // Only the TLS 1.2 list is restricted; OpenSSL keeps its TLS 1.3 suites, as Go does.
    ...(ciphers.length > 0 ? { ciphers: ciphers.join(':') } : {}),
    ...(config.curve_preferences ? { ecdhCurve: config.curve_preferences.map((c) => CURVES[c]).join(':') } : {}),
    honorCipherOrder: config.prefer_server_cipher_suites,
  };
  let context: SecureContext;
  try {
    context = createSecureContext(options);
  } catch (error) {
    // OpenSSL's words name the problem (key does not match certificate, no PEM data), never the key.
    const message = (error as Error).message;
    const key = /key/i.test(message) ? 'key_file' : /ca|certificate authority/i.test(message) && pem.ca ? 'client_ca_file' : 'cert_file';
    throw new ConfigError(file, [{ path: `tls_server_config.${key}`, message: `cannot load the TLS certificate and key: ${message}` }]);
  }
  const clientAuthType = config.client_auth_type ?? 'NoClientCert';
  return { context, options, clientAuthType, clientAuth: clientCertPolicy(clientAuthType, config.client_allowed_sans) };
}

/** crypto/tls ClientAuthType, in the terms of Node's TLS server. */
export function clientCertPolicy(type: ClientAuthType, allowedSans?: readonly string[]): ClientCertPolicy {
  const base = { request: true, requireVerified: false, requirePresent: false, rejectUnverified: false, ...(allowedSans ? { allowedSans } : {}) };
  switch (type) {
    case 'NoClientCert':
      return { ...base, request: false };
    case 'RequestClientCert':
      return base;
    case 'RequireAnyClientCert':
    case 'RequireClientCert':
      return { ...base, requirePresent: true };
    case 'VerifyClientCertIfGiven':
      return { ...base, rejectUnverified: true };
    case 'RequireAndVerifyClientCert':
      return { ...base, requireVerified: true, requirePresent: true, rejectUnverified: true };
  }
}

/**
 * A file the web config depends on: a regular file (a FIFO or device is refused before any
 * read can block), at most MAX_FILE_BYTES. `key` is '' for the web config file itself.
 */
async function readConfigFile(configFile: string, path: string, key: string): Promise<Buffer> {
  try {
    return await readBoundedFile(path, { maxBytes: MAX_FILE_BYTES });
  } catch (error) {
    const message = describeFsError(error);
    throw new ConfigError(configFile, [{ path: key, message: key === '' ? `cannot read the web config file: ${message}` : `cannot read ${path}: ${message}` }]);
  }
}
