/**
 * `imap_exporter healthcheck`: the container image's HEALTHCHECK. Distroless has no shell and
 * no curl, and a fixed URL would break as soon as someone passes another
 * --web.listen-address or a --web.config.file with TLS. So this asks the exporter's own
 * /-/healthy at the address it was started with: the flags given here, or else those of the
 * container's main process (/proc/1/cmdline). Exit 0 healthy, 1 not.
 *
 * Liveness only: the certificate is not verified (the name would not match 127.0.0.1), a 401
 * from basic auth counts as alive (it cannot know a password), and with client certificates
 * required the check proves no more than that the TLS listener answers the handshake.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { loadWebConfig } from '../http/web-config-load.js';
import { parseListenAddress } from './flags.js';

const TIMEOUT_MS = 4000;

export interface HealthTarget {
  url: string;
  tls: boolean;
}

/** `--web.listen-address` and `--web.config.file` from a NUL-separated command line (or argv). */
export function flagsOf(args: readonly string[]): { listen: string; webConfigFile?: string } {
  let listen = ':10043';
  let webConfigFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const value = (name: string): string | undefined => {
      if (arg === name) return args[++i];
      return arg.startsWith(`${name}=`) ? arg.slice(name.length + 1) : undefined;
    };
    listen = value('--web.listen-address') ?? listen;
    webConfigFile = value('--web.config.file') ?? webConfigFile;
  }
  return webConfigFile === undefined ? { listen } : { listen, webConfigFile };
}

/** Where /-/healthy is: a wildcard listen address is asked on loopback. */
export async function healthTarget(flags: { listen: string; webConfigFile?: string }): Promise<HealthTarget> {
  const { host, port } = parseListenAddress(flags.listen);
  const loopback = host === undefined || host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const tls = flags.webConfigFile ? await webConfigHasTls(flags.webConfigFile) : false;
  const hostPart = loopback.includes(':') ? `[${loopback}]` : loopback;
  return { url: `${tls ? 'https' : 'http'}://${hostPart}:${port}/-/healthy`, tls };
}

async function webConfigHasTls(file: string): Promise<boolean> {
  return (await loadWebConfig(file)).tls !== undefined;
}

/** 0 when the exporter answers 200 (or 401: alive behind basic auth), 1 otherwise. */
export function probeHealth(target: HealthTarget): Promise<number> {
  return new Promise((resolve) => {
    const request = target.tls ? httpsRequest : httpRequest;
    const req = request(target.url, { timeout: TIMEOUT_MS, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401 ? 0 : 1);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server refused us a client certificate we do not have: its TLS listener is alive.
      resolve(target.tls && /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|alert/i.test(`${error.code ?? ''} ${error.message}`) ? 0 : 1);
    });
    req.end();
  });
}

export async function runHealthcheck(args: string[], io: { stderr: (text: string) => void }): Promise<number> {
  let flagArgs = args;
  if (args.length === 0) {
    // The container's exporter is PID 1; outside a container there is nothing to read: defaults.
    const cmdline = await readFile('/proc/1/cmdline', 'utf8').catch(() => '');
    flagArgs = cmdline.split('\0');
  }
  try {
    const target = await healthTarget(flagsOf(flagArgs));
    const code = await probeHealth(target);
    if (code !== 0) io.stderr(`imap_exporter healthcheck: ${target.url} is not healthy\n`);
    return code;
  } catch (error) {
    io.stderr(`imap_exporter healthcheck: ${(error as Error).message}\n`);
    return 1;
  }
}
