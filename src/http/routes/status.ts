import type { RequestHandler } from 'express';
import { formatProbeReport } from '../../probe/report.js';
import { formatTranscript } from '../../probe/transcript.js';
import type { ProbeResult } from '../../probe/types.js';
import { UNSHARDED } from '../../scheduler/shard.js';
import type { AppDeps } from '../app.js';
import { findJob } from '../jobs.js';
import { renderStatusPage } from '../status-page.js';

type StatusDeps = Pick<AppDeps, 'config' | 'results' | 'scheduledJobs' | 'shard' | 'nextRunAt' | 'version' | 'now'>;

/** GET /: the status page. */
export function statusRoute(deps: StatusDeps): RequestHandler {
  return (_req, res) => {
    const store = deps.config();
    const configured = store?.current.jobs ?? [];
    const html = renderStatusPage({
      nowMs: (deps.now ?? Date.now)(),
      version: deps.version,
      configPath: store?.path ?? '(no config loaded yet)',
      lastReloadSuccessful: store?.lastReloadSuccessful ?? false,
      jobs: deps.scheduledJobs?.() ?? configured,
      shard: { ...(deps.shard ?? UNSHARDED), configuredJobs: configured.length },
      results: (key) => deps.results.get(key),
      nextRunAt: deps.nextRunAt,
    });
    res.type('html').send(html);
  };
}

/** GET /transcript?target=&account=: the latest scheduled run's report and redacted transcript, and the last failure's. */
export function transcriptRoute(deps: StatusDeps): RequestHandler {
  return (req, res) => {
    const store = deps.config();
    const lookup = findJob(store?.current.jobs ?? [], req.query.target, req.query.account);
    if ('error' in lookup) {
      res.status(400).type('text/plain').send(`${lookup.error}\n`);
      return;
    }
    const results = deps.results.get(lookup.job.key);
    const sections: string[] = [`Target ${lookup.job.target}, account ${lookup.job.account ?? '(none)'}`];
    if (!results?.latest) sections.push('', scheduledHere(deps, lookup.job.key) ? 'No scheduled probe has finished yet.' : otherShard(deps));
    if (results?.latest) sections.push('', section('Latest scheduled probe', results.latest));
    if (results?.lastFailure && results.lastFailure !== results.latest) {
      sections.push('', section('Last failed probe', results.lastFailure));
    }
    res.type('text/plain').send(`${sections.join('\n')}\n`);
  };
}

function scheduledHere(deps: StatusDeps, key: string): boolean {
  return deps.scheduledJobs?.().some((job) => job.key === key) ?? true;
}

function otherShard(deps: StatusDeps): string {
  const { index, count } = deps.shard ?? UNSHARDED;
  return `This replica is shard ${index} of ${count} and another shard schedules this job: see its transcript there, or run it here with /probe.`;
}

function section(title: string, result: ProbeResult): string {
  return [
    `== ${title}, ended ${new Date(result.endedAt).toISOString()}`,
    formatProbeReport(result),
    '',
    'Transcript (passwords and AUTHENTICATE payloads shown as ***):',
    formatTranscript(result.transcript),
  ].join('\n');
}
