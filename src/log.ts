import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { logfmtDestination } from './logfmt.js';

export const LOG_FORMATS = ['json', 'logfmt', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type { Logger };

/**
 * One event per line: JSON, logfmt (as Prometheus's own components log), or pretty
 * for people. Levels are words (`"level":"info"`, `level=info`), as log pipelines of
 * Prometheus exporters expect, not pino's numbers. Secrets never get here by design;
 * the redact paths are the seatbelt should a spec or account be logged whole.
 */
export function createLogger(options: { level: LogLevel; format: LogFormat; destination?: DestinationStream }): Logger {
  const settings = {
    level: options.level,
    base: { service: 'imap_exporter' },
    redact: { paths: ['password', '*.password', '*.*.password', 'secret', '*.secret'], censor: '***' },
    // pino-pretty colours pino's numeric levels itself.
    ...(options.format === 'pretty' ? {} : { formatters: { level: (label: string) => ({ level: label }) } }),
  };
  const destination = destinationFor(options);
  return destination ? pino(settings, destination) : pino(settings);
}

/** undefined: pino's own stdout destination. */
function destinationFor(options: { format: LogFormat; destination?: DestinationStream }): DestinationStream | undefined {
  if (options.format === 'logfmt') return logfmtDestination(options.destination ?? process.stdout);
  if (options.format === 'pretty' && !options.destination) return pretty({ colorize: process.stdout.isTTY, sync: true });
  return options.destination;
}
