#!/usr/bin/env node
import { runCheck } from './cli/check.js';

/** Entry point: wiring only. Subcommands `check` and `config check`; otherwise the daemon. */
async function main(argv: string[]): Promise<number> {
  const io = {
    stdout: (text: string) => process.stdout.write(text),
    stderr: (text: string) => process.stderr.write(text),
    env: process.env,
  };
  if (argv[0] === 'check') return runCheck(argv.slice(1), io);
  io.stderr('imap_exporter: the daemon is not wired yet\n');
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
