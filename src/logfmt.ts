import type { DestinationStream } from 'pino';

/** The keys that open every logfmt line, in this order (as Prometheus's own logs do). */
const LEADING = ['time', 'level', 'msg'] as const;
// Bare values are words: anything with a space, quote, `=` or a control character is quoted.
const NEEDS_QUOTES = /[\s"=\\\p{Cc}]/u;

/**
 * A pino destination that turns each JSON event into one logfmt line
 * (`time=… level=info msg="probe failed" target=mail …`) on `out`. pino still does
 * the levels, redaction and serialisation; this only re-spells the finished event.
 */
export function logfmtDestination(out: { write: (line: string) => unknown }): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(`${toLogfmt(line)}\n`);
    },
  };
}

/** One JSON event as a logfmt line; a line that is not a JSON object passes through as its msg. */
export function toLogfmt(json: string): string {
  let event: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    event = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { msg: json };
  } catch {
    event = { msg: json };
  }
  if (typeof event.time === 'number') event.time = new Date(event.time).toISOString();
  const keys = [...LEADING.filter((k) => k in event), ...Object.keys(event).filter((k) => !(LEADING as readonly string[]).includes(k))];
  return keys.map((k) => `${logfmtKey(k)}=${logfmtValue(event[k])}`).join(' ');
}

function logfmtKey(key: string): string {
  return key.replace(/[^\w.-]/g, '_') || '_';
}

function logfmtValue(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  if (text !== '' && !NEEDS_QUOTES.test(text)) return text;
  return JSON.stringify(text);
}
