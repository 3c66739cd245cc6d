/** Names that would hide or reorder text in labels and logs, and YAML tags beyond plain data, are config errors. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imap-exporter-names-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function errorFor(yaml: string): Promise<string> {
  const path = join(dir, 'c.yaml');
  await writeFile(path, yaml);
  try {
    await loadConfigFile(path);
  } catch (error) {
    return (error as Error).message.replaceAll(path, 'c.yaml');
  }
  throw new Error('the config loaded');
}

const HIDDEN: [string, string][] = [
  ['\\0', 'U+0000'],
  ['\\e[31m', 'U+001B'],
  ['\\x85', 'U+0085'],
  ['\\u202E', 'U+202E'],
  ['\\u2066', 'U+2066'],
];

test('control and bidi characters in target and account names are rejected, naming the character', async () => {
  for (const [escaped, code] of HIDDEN) {
    const message = `expected a name without control or bidirectional-formatting characters (found ${code})`;
    assert.equal(await errorFor(`targets:\n  - name: "t${escaped}x"\n    host: h\n`), `c.yaml:2: targets[0].name: ${message}`);
    assert.equal(
      await errorFor(`targets:\n  - name: t\n    host: h\n    accounts:\n      - { username: u, name: "a${escaped}", password: p }\n`),
      `c.yaml:5: targets[0].accounts[0].name: ${message}`,
    );
    assert.equal(
      await errorFor(`targets:\n  - name: t\n    host: h\n    accounts:\n      - { username: "u${escaped}", password: p }\n`),
      `c.yaml:5: targets[0].accounts[0].username: ${message}`,
    );
  }
});

test('a YAML tag beyond the core schema is one line naming file:line', async () => {
  assert.equal(
    await errorFor('targets:\n  - name: t\n    host: !!binary aGVsbG8=\n'),
    'c.yaml:3: YAML tag "!!binary" is not allowed: only plain strings, numbers, booleans, null, mappings and lists',
  );
  assert.match(await errorFor('defaults: !custom {}\n'), /^c\.yaml:1: YAML tag "!custom" is not allowed/);
  assert.equal(await errorFor('targets:\n  - name: !!str 12\n    host: !!int 3\n'), 'c.yaml:3: targets[0].host: expected a string, got a number');
});
