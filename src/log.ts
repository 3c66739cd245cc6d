import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type { Logger };

/**
 * One JSON event per line (or pretty for people). Secrets never get here by
 * design; the redact paths are the seatbelt should a spec or account be logged whole.
 */
export function createLogger(options: { level: LogLevel; format: LogFormat; destination?: DestinationStream }): Logger {
  const destination =
    options.destination ?? (options.format === 'pretty' ? pretty({ colorize: process.stdout.isTTY, sync: true }) : undefined);
  const settings = {
    level: options.level,
    base: { service: 'imap_exporter' },
    redact: { paths: ['password', '*.password', '*.*.password', 'secret', '*.secret'], censor: '***' },
  };
  return destination ? pino(settings, destination) : pino(settings);
}
