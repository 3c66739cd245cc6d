import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpsOptions {
  ca: string;
  /** Client certificate and key files. */
  cert?: string;
  key?: string;
  /** user:password for basic auth. */
  auth?: string;
  method?: string;
}

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTPS request with a custom CA and an optional client certificate; rejects on a TLS failure. */
export function httpsRequest(url: string, options: HttpsOptions): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: readFileSync(options.ca),
        ...(options.cert ? { cert: readFileSync(options.cert) } : {}),
        ...(options.key ? { key: readFileSync(options.key) } : {}),
        ...(options.auth ? { auth: options.auth } : {}),
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
