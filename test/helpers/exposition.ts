import { spawn } from 'node:child_process';

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4) for test
 * assertions: it throws on anything malformed, so parsing is also a validity check.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Family name → HELP text (unescaped). */
  help: Map<string, string>;
  /** Family name → TYPE. */
  types: Map<string, string>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Sample[] {
  return parseExpositionFull(text).samples;
}

export function parseExpositionFull(text: string): Exposition {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const out: Exposition = { samples: [], help: new Map(), types: new Map() };
  const seenSeries = new Set<string>();
  const finishedFamilies = new Set<string>();
  let currentFamily: string | undefined;
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!meta) return; // a plain comment
      const [, kind, name = '', rest = ''] = meta;
      if (!METRIC_NAME.test(name)) fail('bad metric name');
      const map = kind === 'HELP' ? out.help : out.types;
      if (map.has(name)) fail(`second ${kind} for ${name}`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) fail('unknown type');
        if (finishedFamilies.has(name) || currentFamily === name) fail('TYPE after samples');
      }
      map.set(name, kind === 'HELP' ? unescapeHelp(rest, fail) : rest);
      return;
    }
    const sample = parseSample(line, fail);
    const family = familyOf(sample.name, out.types);
    if (family !== currentFamily) {
      if (currentFamily !== undefined) finishedFamilies.add(currentFamily);
      if (finishedFamilies.has(family)) fail(`samples of ${family} are not contiguous`);
      currentFamily = family;
    }
    if (sample.name.endsWith('_bucket') && out.types.get(family) === 'histogram' && !('le' in sample.labels)) {
      fail('histogram bucket without le');
    }
    const id = seriesId(sample);
    if (seenSeries.has(id)) fail('duplicate series');
    seenSeries.add(id);
    out.samples.push(sample);
  });
  return out;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return fail('bad metric name');
  const name = nameMatch[0];
  const labels: Record<string, string> = {};
  let i = name.length;
  if (line[i] === '{') {
    i += 1;
    while (line[i] !== '}') {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      if (!labelMatch) fail(`bad label at column ${i + 1}`);
      const labelName = labelMatch?.[1] ?? '';
      if (labelName in labels) fail(`duplicate label ${labelName}`);
      i += labelMatch?.[0].length ?? 0;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          if (next === '\\' || next === '"') value += next;
          else if (next === 'n') value += '\n';
          else fail('bad escape in label value');
          i += 2;
        } else {
          value += c;
          i += 1;
        }
      }
      labels[labelName] = value;
      i += 1;
      if (line[i] === ',') i += 1;
      else if (line[i] !== '}') fail(`expected , or } at column ${i + 1}`);
    }
    i += 1;
  }
  const rest = line.slice(i);
  const fields = /^ +(\S+)(?: +(-?\d+))?$/.exec(rest);
  if (!fields) return fail('expected " value [timestamp]"');
  return { name, labels, value: parseValue(fields[1] ?? '', fail) };
}

/** Values as Go's strconv.ParseFloat reads them (the format's definition): NaN and Inf in any case. */
function parseValue(text: string, fail: (why: string) => never): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) {
    if (special[2]?.toLowerCase() === 'nan') return special[1] === '' ? NaN : fail(`bad value ${text}`);
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!NUMBER.test(text)) fail(`bad value ${text}`);
  return Number(text);
}

function unescapeHelp(text: string, fail: (why: string) => never): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    return fail('bad escape in HELP');
  });
}

function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return name;
}

function seriesId(sample: Sample): string {
  const labels = Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([sample.name, labels]);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/** The sample with exactly this name and label set, or undefined. */
export function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  return samples.find((s) => s.name === name && sameLabels(s.labels, labels));
}

/** Every sample of this name whose labels include `labels`. */
export function select(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/**
 * promtool's linter findings on prom-client's own default metrics (gauges named
 * `*_total`): not ours to rename, so a test may accept exactly these and nothing else.
 */
export const PROM_CLIENT_LINT_FINDING =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/** Lint findings other than PROM_CLIENT_LINT_FINDING: promtool exits 1 on a parse error, 3 on lint findings. */
export async function promtoolProblems(text: string): Promise<string[]> {
  const { code, output } = await promtoolCheck(text);
  const findings = output.split('\n').filter((line) => line.trim() !== '');
  const problems = findings.filter((line) => !PROM_CLIENT_LINT_FINDING.test(line));
  if (code !== 0 && !(code === 3 && findings.length > 0)) problems.unshift(`promtool exited ${String(code)}`);
  return problems;
}

/**
 * Pipe `text` to `promtool check metrics`. Rejects when promtool cannot be run (a
 * missing promtool fails the test, it does not skip it); resolves with its exit code
 * and output otherwise.
 */
export function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (err) => reject(new Error(`cannot run promtool (install the prometheus package): ${err.message}`)));
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.on('error', () => undefined); // an early exit shows up in code and output
    child.stdin.end(text);
  });
}
