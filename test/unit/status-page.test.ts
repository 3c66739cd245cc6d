import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStatusPage } from '../../src/http/status-page.js';
import { hintFor } from '../../src/probe/hints.js';
import type { ProbeJob, ProbeResult } from '../../src/probe/types.js';
import { ResultStore } from '../../src/scheduler/results.js';
import { testJob } from '../helpers/jobs.js';

const NOW = 1_760_000_000_000;

function passed(job: ProbeJob): ProbeResult {
  return {
    target: job.target,
    account: job.account,
    success: true,
    startedAt: NOW - 1000,
    endedAt: NOW - 900,
    durationSeconds: 0.1,
    stages: [{ stage: 'connect', success: true, durationSeconds: 0.0012 }, { stage: 'greeting', success: true, durationSeconds: 0.003 }],
    facts: { lists: [], tls: { version: 'TLSv1.3', cipher: 'X', authorized: true, certNotAfter: NOW / 1000 + 10 * 86400 } },
    transcript: [],
  };
}

function failedLogin(job: ProbeJob, detail: string): ProbeResult {
  return {
    ...passed(job),
    success: false,
    stages: [{ stage: 'connect', success: true, durationSeconds: 0.001 }, { stage: 'login', success: false, durationSeconds: 2 }],
    failure: { stage: 'login', reason: 'auth_failed', hint: hintFor('auth_failed'), detail },
  };
}

function render(jobs: ProbeJob[], results: ResultStore): string {
  return renderStatusPage({
    nowMs: NOW,
    version: 'test',
    configPath: 'c.yaml',
    lastReloadSuccessful: true,
    jobs,
    results: (key) => results.get(key),
    nextRunAt: () => NOW + 5000,
  });
}

describe('status page', () => {
  it('lists failing jobs first, then pending, then passing, with stage cells and the failure', () => {
    const up = testJob('a-up');
    const pending = testJob('b-pending');
    const down = testJob('c-down', 'probe');
    const results = new ResultStore();
    results.record(up, passed(up));
    results.record(down, failedLogin(down, 'the server answered NO Login failed.'));
    const html = render([up, pending, down], results);
    const order = ['c-down', 'b-pending', 'a-up'].map((name) => html.indexOf(`<td>${name}</td>`));
    assert.ok(order.every((i) => i > 0));
    assert.deepEqual([...order].sort((x, y) => x - y), order);
    assert.match(html, /1 failing/);
    assert.match(html, /<td class="fail n" title="auth_failed">✗ 2000\.0<\/td>/);
    assert.match(html, /<b>login: auth_failed<\/b> \(latest probe\)<br><span class="hint">the server answered NO Login failed\./);
    assert.match(html, /<td class="n">10<\/td>/, 'certificate days left');
    assert.match(html, /<td class="ok">up<\/td>/);
    assert.match(html, /<td class="pending">pending<\/td>/);
  });

  it('escapes whatever a server said, and names', () => {
    const job = testJob('t<1>', 'a"b');
    const results = new ResultStore();
    results.record(job, failedLogin(job, '<script>alert(1)</script> & "quoted"'));
    const html = render([job], results);
    assert.ok(!html.includes('<script>'));
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;quoted&quot;/);
    assert.match(html, /<td>t&lt;1&gt;<\/td><td>a&quot;b<\/td>/);
    assert.match(html, /href="\/transcript\?target=t%3C1%3E&amp;account=a%22b"/);
  });
});
