/**
 * The HTTP(S) server under `--web.config.file`: TLS with optional client certificates, basic
 * auth and extra headers on every path, as exporter-toolkit's web package does. The settings
 * are re-read when one of their files changes or on SIGHUP; a bad file then keeps the
 * settings that run. Whether TLS is on is fixed at start (the listener's kind), as in
 * exporter-toolkit, where it is decided once per listener.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import { BasicAuthVerifier, parseBasicAuth } from './basic-auth.js';
import { loadWebConfig, OPEN_WEB_SETTINGS, type WebSettings, type WebTlsSettings } from './web-config-load.js';

// How often a watched file's mtime is polled; cheap (one stat per file) and unref'd.
const WATCH_INTERVAL_MS = 2000;
const SOCKET_HIGH_WATER_MARK = 1024 * 1024;

export class WebSecurity {
  #settings: WebSettings;
  readonly #logger: Logger;
  readonly #verifier = new BasicAuthVerifier();
  #server: Server | undefined;
  #watched: readonly string[] = [];
  #reloading: Promise<boolean> | undefined;

  private constructor(settings: WebSettings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
  }

  /** Loads `file` (undefined: no web config, plain open HTTP). Throws a ConfigError for a bad file. */
  static async open(file: string | undefined, logger: Logger): Promise<WebSecurity> {
    return new WebSecurity(file === undefined ? OPEN_WEB_SETTINGS : await loadWebConfig(file), logger);
  }

  get settings(): WebSettings {
    return this.#settings;
  }

  /** The server for `app`: HTTPS when the web config enables TLS, else HTTP; every request goes through `middleware`. */
  createServer(app: RequestListener): Server {
    const tls = this.#settings.tls;
    // A 50 MB /metrics waits for 'drain' once its writes pass highWaterMark: at 1 MiB ~50 waits, at Node's 16 KiB one per 64 KiB chunk (~750).
    const buffering = { highWaterMark: SOCKET_HIGH_WATER_MARK };
    const server = tls ? createHttpsServer({ ...serverTlsOptions(tls), ...buffering }, app) : createHttpServer(buffering, app);
    if (tls) this.#guardTls(server as HttpsServer);
    this.#server = server;
    this.#watch();
    return server;
  }

  /** Headers and basic auth, before any route (so every path is protected). */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
    return (req, res, next) => {
      const { headers, users } = this.#settings;
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      if (users.size === 0) return next();
      const credentials = parseBasicAuth(req.headers.authorization);
      const verdict = credentials ? this.#verifier.verify(users, credentials) : Promise.resolve(false);
      verdict.then(
        (ok) => {
          if (ok) return next();
          res.statusCode = 401;
          res.setHeader('WWW-Authenticate', 'Basic');
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end('Unauthorized\n');
        },
        (error: unknown) => next(error),
      );
    };
  }

  /** Re-reads the web config; on any problem logs it and keeps the running settings. Resolves true when applied. */
  reload(): Promise<boolean> {
    this.#reloading ??= this.#reload().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  async #reload(): Promise<boolean> {
    const file = this.#settings.file;
    if (file === '') return true;
    let next: WebSettings;
    try {
      next = await loadWebConfig(file);
    } catch (error) {
      this.#logger.error({ file, error: (error as Error).message }, 'web config reload failed; keeping the running web config');
      return false;
    }
    if (Boolean(next.tls) !== Boolean(this.#settings.tls)) {
      this.#logger.error({ file }, 'web config reload failed: TLS can only be switched on or off by a restart; keeping the running web config');
      return false;
    }
    if (next.tls && this.#server) applyTls(this.#server as HttpsServer, next.tls);
    this.#settings = next;
    this.#watch();
    this.#logger.info({ file, tls: Boolean(next.tls), basic_auth_users: next.users.size }, 'web config reloaded');
    return true;
  }

  /** Stops watching files (at shutdown). */
  close(): void {
    for (const file of this.#watched) unwatchFile(file);
    this.#watched = [];
  }

  #watch(): void {
    this.close();
    this.#watched = this.#settings.files;
    for (const file of this.#watched) {
      watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) void this.reload();
      });
    }
  }

  /** Logs handshake failures and enforces the client-certificate rules the handshake itself does not. */
  #guardTls(server: HttpsServer): void {
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.#logger.warn({ remote: socket.remoteAddress, error: error.message }, 'TLS handshake error');
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      const refusal = clientCertRefusal(socket, this.#settings.tls);
      if (!refusal) return;
      this.#logger.warn({ remote: socket.remoteAddress, error: refusal }, 'TLS client certificate refused');
      socket.destroy();
    });
  }
}

function serverTlsOptions(tls: WebTlsSettings) {
  return { ...tls.options, requestCert: tls.clientAuth.request, rejectUnauthorized: tls.clientAuth.requireVerified };
}

/** A reload: new certificate, key, CA and versions for the next handshakes; open connections keep theirs. */
function applyTls(server: HttpsServer, tls: WebTlsSettings): void {
  server.setSecureContext(tls.options);
  // Node reads these two server properties at every new connection.
  const policy = server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
  policy.requestCert = tls.clientAuth.request;
  policy.rejectUnauthorized = tls.clientAuth.requireVerified;
}

/** Why this connection's client certificate is not acceptable under `tls`, or undefined. */
export function clientCertRefusal(socket: TLSSocket, tls: WebTlsSettings | undefined): string | undefined {
  if (!tls) return undefined;
  const policy = tls.clientAuth;
  if (!policy.request) return undefined;
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  if (!presented) return policy.requirePresent ? 'no client certificate presented' : undefined;
  if ((policy.rejectUnverified || policy.requireVerified) && !socket.authorized) {
    return `client certificate not verified: ${String(socket.authorizationError)}`;
  }
  if (policy.allowedSans) {
    const sans = (cert.subjectaltname ?? '').split(', ').map((entry) => entry.replace(/^[A-Za-z ]+:/, ''));
    if (!sans.some((san) => policy.allowedSans?.includes(san))) return 'no allowed SAN in the client certificate';
  }
  return undefined;
}
