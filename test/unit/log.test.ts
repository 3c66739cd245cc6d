import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type LogFormat } from '../../src/log.js';
import { toLogfmt } from '../../src/logfmt.js';

function capture(format: LogFormat): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', format, destination: { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean)) } });
  return { lines, logger };
}

describe('logs', () => {
  it('JSON has the level as a word, one event per line, secrets censored', () => {
    const { lines, logger } = capture('json');
    logger.warn({ target: 'mail', phase: 'login', reason: 'auth_failed', account: { password: 'hunter2' } }, 'probe failed');
    logger.debug('not at info');
    assert.equal(lines.length, 1);
    const event = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(event.level, 'warn');
    assert.equal(event.msg, 'probe failed');
    assert.equal(event.phase, 'login');
    assert.equal(typeof event.time, 'number');
    assert.doesNotMatch(lines[0] ?? '', /hunter2/);
  });

  it('logfmt: time, level, msg first, then the fields; values with spaces or quotes quoted', () => {
    const { lines, logger } = capture('logfmt');
    logger.warn({ target: 'mail main', phase: 'login', detail: 'a3 NO "bad"', account: { password: 'hunter2' } }, 'probe failed');
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] ?? '',
      /^time=\d{4}-\d\d-\d\dT[\d:.]+Z level=warn msg="probe failed" service=imap_exporter target="mail main" phase=login detail="a3 NO \\"bad\\"" account="\{\\"password\\":\\"\*\*\*\\"\}"$/,
    );
    assert.doesNotMatch(lines[0] ?? '', /hunter2/);
  });

  it('logfmt quotes empty values, newlines and equals signs, and keeps a non-JSON line as msg', () => {
    assert.equal(toLogfmt('{"level":"info","msg":"x","a":"","b":"1\\n2","c":"k=v","n":3,"t":true}'), 'level=info msg=x a="" b="1\\n2" c="k=v" n=3 t=true');
    assert.equal(toLogfmt('not json'), 'msg="not json"');
  });
});
