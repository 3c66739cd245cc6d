import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { find, parseExposition, parseExpositionFull, promtoolCheck, promtoolProblems, select } from '../helpers/exposition.js';

const GOOD = [
  '# HELP up 1 if "up"\\nsecond line \\\\ done',
  '# TYPE up gauge',
  'up{job="a",path="C:\\\\x",quote="say \\"hi\\"",nl="1\\n2"} 1',
  'up{job="b",} -2.5e3',
  '# a free comment',
  '',
  '# TYPE h histogram',
  'h_bucket{le="0.5"} 1',
  'h_bucket{le="+Inf"} 2',
  'h_sum 0.75',
  'h_count 2',
  'plain NaN 1700000000000',
  'nan_as_prom_client_writes_it Nan',
  'inf +Inf',
  '',
].join('\n');

describe('parseExposition (test helper)', () => {
  it('reads samples, escapes, HELP and TYPE', () => {
    const { samples, help, types } = parseExpositionFull(GOOD);
    assert.equal(help.get('up'), '1 if "up"\nsecond line \\ done');
    assert.equal(types.get('h'), 'histogram');
    assert.deepEqual(find(samples, 'up', { job: 'a', path: 'C:\\x', quote: 'say "hi"', nl: '1\n2' })?.value, 1);
    assert.equal(find(samples, 'up', { job: 'b' })?.value, -2500);
    assert.equal(find(samples, 'up', {}), undefined, 'find matches the exact label set');
    assert.equal(select(samples, 'h_bucket').length, 2);
    assert.ok(Number.isNaN(find(samples, 'plain')?.value));
    assert.equal(find(samples, 'inf')?.value, Infinity);
    assert.ok(Number.isNaN(find(samples, 'nan_as_prom_client_writes_it')?.value), 'Go ParseFloat reads NaN in any case');
  });

  const BAD: Record<string, string> = {
    'no final newline': 'up 1',
    'missing value': 'up{job="a"}\n',
    'bad value': 'up one\n',
    'bad metric name': '1up 1\n',
    'unquoted label value': 'up{job=a} 1\n',
    'bad escape': 'up{job="\\t"} 1\n',
    'unterminated label value': 'up{job="a} 1\n',
    'duplicate label': 'up{a="1",a="2"} 1\n',
    'duplicate series': 'up{a="1"} 1\nup{a="1"} 2\n',
    'non-contiguous family': 'a 1\nb 1\na{x="y"} 1\n',
    'TYPE after samples': 'a 1\n# TYPE a gauge\n',
    'unknown type': '# TYPE a gauges\n',
    'second HELP': '# HELP a x\n# HELP a y\n',
    'bucket without le': '# TYPE h histogram\nh_bucket 1\n',
    'trailing garbage': 'up 1 2 3\n',
    'missing separator': 'up{a="1"b="2"} 1\n',
  };
  for (const [why, text] of Object.entries(BAD)) {
    it(`rejects ${why}`, () => assert.throws(() => parseExposition(text), /line \d+|newline/));
  }

  it('promtoolCheck reports a broken exposition', async () => {
    const { code } = await promtoolCheck('# TYPE up gauge\nup{job="a} 1\n');
    assert.notEqual(code, 0);
  });

  it('promtoolProblems forgives only prom-client’s own lint findings', async () => {
    const gauge = (name: string) => `# HELP ${name} h\n# TYPE ${name} gauge\n${name} 1\n`;
    assert.deepEqual(await promtoolProblems(gauge('nodejs_active_handles_total')), []);
    assert.deepEqual(await promtoolProblems(gauge('imap_things_total')), [
      'imap_things_total non-counter metrics should not have "_total" suffix',
    ]);
    assert.deepEqual((await promtoolProblems('up{a="} 1\n'))[0], 'promtool exited 1');
  });
});
