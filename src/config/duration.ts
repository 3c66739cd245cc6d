/**
 * Prometheus-style durations, as model.ParseDuration in prometheus/common reads them:
 * integer amounts of y, w, d, h, m, s, ms, largest unit first, each at most once
 * (`1h30m`, `500ms`, `1d`). A bare `0` is allowed; `1.5s` and `10 seconds` are not.
 */

const UNIT_MS = {
  y: 365 * 24 * 3_600_000,
  w: 7 * 24 * 3_600_000,
  d: 24 * 3_600_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
} as const;

type Unit = keyof typeof UNIT_MS;
const UNITS = Object.keys(UNIT_MS) as Unit[];

// Same shape as prometheus/common's durationRE: one optional group per unit, in order.
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

export const DURATION_EXPECTED = 'expected a duration like 500ms, 30s, 5m, 1h';

/** Milliseconds for a duration string; throws an Error saying what was expected. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const match = text === '' ? null : DURATION_RE.exec(text);
  if (!match) throw new Error(`${DURATION_EXPECTED}, got ${JSON.stringify(text)}`);
  let total = 0;
  UNITS.forEach((unit, i) => {
    const amount = match[i + 1];
    if (amount !== undefined) total += Number(amount) * UNIT_MS[unit];
  });
  if (!Number.isSafeInteger(total)) throw new Error(`duration ${JSON.stringify(text)} is too long`);
  return total;
}

/** The inverse, as Prometheus prints a Duration: `1h30m`, `500ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const unit of UNITS) {
    const amount = Math.floor(rest / UNIT_MS[unit]);
    if (amount > 0) {
      text += `${amount}${unit}`;
      rest -= amount * UNIT_MS[unit];
    }
  }
  return text;
}
