import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lowerV8Threads, type LoweredThreads } from '../../src/runtime/v8-threads.js';

const run = promisify(execFile);
const MODULE = new URL('../../src/runtime/v8-threads.js', import.meta.url).href;

interface Thread {
  id: number;
  name: string;
  nice: number;
}
interface ChildReport {
  pid: number;
  result: LoweredThreads;
  threads: Thread[];
}

/** A fresh node process (optionally under `nice -n`) lowers its own V8 threads by `by` and reports every thread's nice. */
async function inChild(by: number, startNice = 0): Promise<ChildReport> {
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    import { lowerV8Threads } from ${JSON.stringify(MODULE)};
    const result = lowerV8Threads(${by});
    const threads = readdirSync('/proc/self/task').map((id) => {
      const stat = readFileSync('/proc/self/task/' + id + '/stat', 'utf8');
      const name = readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trim();
      return { id: Number(id), name, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
    });
    console.log(JSON.stringify({ pid: process.pid, result, threads }));`;
  const node = [process.execPath, '--input-type=module', '-e', script];
  const { stdout } = startNice === 0 ? await run(node[0]!, node.slice(1)) : await run('nice', ['-n', String(startNice), ...node]);
  return JSON.parse(stdout) as ChildReport;
}

const named = (report: ChildReport): Thread[] => report.threads.filter((t) => t.name === 'V8Worker');

describe('lowerV8Threads', () => {
  it('puts V8’s helper threads 10 below the event loop and leaves every other thread as it was', async () => {
    const report = await inChild(10);
    const workers = named(report);
    const others = report.threads.filter((t) => t.name !== 'V8Worker');
    assert.ok(others.some((t) => t.id === report.pid), 'the main thread is listed');
    for (const t of others) assert.equal(t.nice, 0, `${t.name} (${t.id})`);
    if (workers.length === 0) {
      // Node 20 names no thread: nothing is changed, and it says why.
      assert.match('skipped' in report.result ? report.result.skipped : '', /no thread named V8Worker/);
      return;
    }
    assert.deepEqual(report.result, { lowered: workers.length, nice: 10 });
    for (const t of workers) assert.equal(t.nice, 10, `V8Worker ${t.id}`);
  });

  it('counts from the process’s own nice and stops at 19', async () => {
    const report = await inChild(19, 5);
    for (const t of report.threads.filter((t) => t.name !== 'V8Worker')) assert.equal(t.nice, 5, `${t.name} (${t.id})`);
    if (named(report).length === 0) return assert.ok('skipped' in report.result);
    assert.deepEqual(report.result, { lowered: named(report).length, nice: 19 });
    for (const t of named(report)) assert.equal(t.nice, 19);
  });

  it('0 turns it off: no thread changes', async () => {
    const report = await inChild(0);
    assert.deepEqual(report.result, { skipped: 'turned off (--runtime.v8-threads-nice=0)' });
    for (const t of report.threads) assert.equal(t.nice, 0, `${t.name} (${t.id})`);
  });

  it('changes nothing where no thread carries the name, or there is no /proc', () => {
    const tasks = mkdtempSync(join(tmpdir(), 'tasks-'));
    try {
      for (const id of ['1', '2']) {
        mkdirSync(join(tasks, id));
        writeFileSync(join(tasks, id, 'comm'), 'node\n');
      }
      mkdirSync(join(tasks, '3')); // a thread that ended between the listing and the read
      assert.match(JSON.stringify(lowerV8Threads(10, tasks)), /no thread named V8Worker/);
      assert.match(JSON.stringify(lowerV8Threads(10, join(tasks, 'absent'))), /not Linux/);
    } finally {
      rmSync(tasks, { recursive: true, force: true });
    }
  });
});
