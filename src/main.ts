#!/usr/bin/env node
import { CHECK_USAGE, runCheck } from './cli/check.js';
import { runConfigCheck } from './cli/config-check.js';
import { DAEMON_USAGE, FlagError, parseDaemonFlags } from './cli/flags.js';
import { runHealthcheck } from './cli/healthcheck.js';
import { runDaemon } from './daemon.js';
import { limitHeapGrowth } from './heap-growth.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';

/** Entry point: wiring only. `check`, `config check`, or the daemon; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const io = {
    stdout: (text: string) => void process.stdout.write(text),
    stderr: (text: string) => void process.stderr.write(text),
    env: process.env,
  };
  // --version and --help work after any command, and exit 0 (the usage texts tell people to run them).
  if (argv.includes('--version')) {
    io.stdout(`imap_exporter ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  if (argv[0] === 'check') {
    if (wantsHelp) return usage(io, CHECK_USAGE);
    return runCheck(argv.slice(1), io);
  }
  if (argv[0] === 'config') {
    if (argv[1] === 'check') return runConfigCheck(argv.slice(2), io);
    if (wantsHelp) return usage(io, DAEMON_USAGE);
    io.stderr(`imap_exporter: unknown command "config ${argv[1] ?? ''}"\n${DAEMON_USAGE}\n`);
    return 2;
  }
  if (argv[0] === 'healthcheck') return runHealthcheck(argv.slice(1), io);
  if (wantsHelp) return usage(io, DAEMON_USAGE);
  let flags;
  try {
    flags = parseDaemonFlags(argv);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    io.stderr(`imap_exporter: ${error.message}\n${DAEMON_USAGE}\n`);
    return 2;
  }
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat });
  limitHeapGrowth();
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception: this is a bug, please report it');
    process.exit(1);
  });
  return runDaemon(flags, logger);
}

function usage(io: { stdout: (text: string) => void }, text: string): number {
  io.stdout(`${text}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
