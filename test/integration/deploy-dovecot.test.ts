/**
 * The sidecar demo's dovecot.conf, parsed by Debian's Dovecot 2.3 (CI installs dovecot-imapd):
 * doveconf rejects unknown settings and syntax errors. The image runs Dovecot 2.3 as well.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import assert from 'node:assert/strict';
import { repoPath, runTool, tempDir } from '../unit/deploy-lib.test.js';

const DOVECOT_INSTALL = "Debian's Dovecot: apt-get install dovecot-imapd";

test('doveconf accepts deploy/kubernetes/sidecar/dovecot.conf', () => {
  const conf = repoPath('deploy/kubernetes/sidecar/dovecot.conf');
  const r = runTool('doveconf', ['-n', '-c', conf], DOVECOT_INSTALL);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^# 2\.3\./m, 'a Dovecot 2.3, like the image');
  assert.match(r.stdout, /^protocols = imap$/m);
  assert.match(r.stdout, /^ssl = required$/m);
  assert.match(r.stdout, /^passdb \{\n\s+args = \/run\/secrets\/dovecot\/users\n\s+driver = passwd-file\n\}/m);
  assert.match(r.stdout, /inet_listener imap \{\n\s+port = 143\n/);
});

test('doveconf rejects an unknown setting (the check above is not vacuous)', () => {
  const { dir, cleanup } = tempDir('imap-exporter-dovecot-');
  try {
    const bad = path.join(dir, 'dovecot.conf');
    writeFileSync(bad, readFileSync(repoPath('deploy/kubernetes/sidecar/dovecot.conf'), 'utf8').replace('protocols =', 'protocolz ='));
    const r = runTool('doveconf', ['-n', '-c', bad], DOVECOT_INSTALL);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Unknown setting: protocolz/);
  } finally {
    cleanup();
  }
});
