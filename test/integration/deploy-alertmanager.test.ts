/**
 * The Alertmanager example (deploy/alertmanager/alertmanager.yml) through amtool (Debian's
 * prometheus-alertmanager, which CI installs): the config is valid, the routes send what they
 * say where they say, and every alert name its matchers use is one the rules define.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { parse } from 'yaml';
import { RULES_PATH, parseRuleGroups, readRepoFile, repoPath, runTool } from '../unit/deploy-lib.test.js';

const CONFIG = 'deploy/alertmanager/alertmanager.yml';
const amtool = (...args: string[]) => runTool('amtool', args, "Debian's prometheus-alertmanager package: apt-get install prometheus-alertmanager");

test('amtool check-config accepts the Alertmanager example', () => {
  const r = amtool('check-config', repoPath(CONFIG));
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
  assert.match(r.stdout, /3 inhibit rules/);
});

test('routes: the exporter\'s own problems go to whoever runs it, the rest to the mail team', () => {
  for (const [labels, receiver] of [
    [['alertname=ImapLoginFailing', 'reason=credentials_unavailable'], 'monitoring-team'],
    [['alertname=ImapExporterDown'], 'monitoring-team'],
    [['alertname=ImapLoginFailing', 'reason=auth_failed'], 'mail-team'],
    [['alertname=ImapCertificateExpired', 'target=mail'], 'mail-team'],
  ] as const) {
    const r = amtool('config', 'routes', 'test', `--config.file=${repoPath(CONFIG)}`, ...labels);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), receiver, labels.join(' '));
  }
});

test('inhibit rules: an expired certificate silences the stage failures it causes; every alert name exists', () => {
  const config = parse(readRepoFile(CONFIG)) as { inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[] };
  const alerts = new Set(parseRuleGroups(readRepoFile(RULES_PATH)).flatMap((g) => g.rules.map((r) => r.alert)));
  const cert = config.inhibit_rules.find((r) => r.source_matchers.includes('alertname="ImapCertificateExpired"') && r.target_matchers.includes('reason="tls_certificate_expired"'));
  assert.ok(cert, 'certificate expired inhibits the tls_certificate_expired stage failures');
  assert.deepEqual(cert.equal, ['target']);
  for (const rule of config.inhibit_rules) {
    for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
      const names = /^alertname=~?"([^"]+)"$/.exec(matcher)?.[1];
      for (const name of names?.split('|') ?? []) assert.ok(alerts.has(name), `${matcher}: no alert ${name} in the rules`);
    }
  }
});
