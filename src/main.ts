#!/usr/bin/env node
import { runCheck } from './cli/check.js';
import { runConfigCheck } from './cli/config-check.js';
import { DAEMON_USAGE, FlagError, parseDaemonFlags } from './cli/flags.js';
import { runDaemon } from './daemon.js';
import { createLogger } from './log.js';

/** Entry point: wiring only. `check`, `config check`, or the daemon; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const io = {
    stdout: (text: string) => void process.stdout.write(text),
    stderr: (text: string) => void process.stderr.write(text),
    env: process.env,
  };
  if (argv[0] === 'check') return runCheck(argv.slice(1), io);
  if (argv[0] === 'config') {
    if (argv[1] === 'check') return runConfigCheck(argv.slice(2), io);
    io.stderr(`imap_exporter: unknown command "config ${argv[1] ?? ''}"\n${DAEMON_USAGE}\n`);
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h') {
    io.stdout(`${DAEMON_USAGE}\n`);
    return 0;
  }
  let flags;
  try {
    flags = parseDaemonFlags(argv);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    io.stderr(`imap_exporter: ${error.message}\n${DAEMON_USAGE}\n`);
    return 2;
  }
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception: this is a bug, please report it');
    process.exit(1);
  });
  return runDaemon(flags, logger);
}

process.exitCode = await main(process.argv.slice(2));
