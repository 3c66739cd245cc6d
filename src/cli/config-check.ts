/** `imap_exporter config check FILE`: validate a config as the daemon would load it (exit 0 valid, 1 invalid, 2 usage). */
import { loadConfigFile } from '../config/load.js';
import { configMaxSize, FlagError } from './flags.js';

export interface CheckIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = 'usage: imap_exporter config check [--config.max-size=4MiB] FILE\n';
const MAX_SIZE_FLAG = '--config.max-size=';

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `args` are the words after `config check`. */
export async function runConfigCheck(args: string[], io: CheckIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(USAGE);
    return 0;
  }
  // The daemon's flag, so a file it accepts passes here too.
  const sizeFlag = args.find((arg) => arg.startsWith(MAX_SIZE_FLAG));
  let maxSize;
  try {
    maxSize = configMaxSize(sizeFlag?.slice(MAX_SIZE_FLAG.length));
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    io.stderr(`${error.message}\n${USAGE}`);
    return 2;
  }
  const [file, ...rest] = args.filter((arg) => arg !== sizeFlag);
  if (file === undefined || file.startsWith('-') || rest.length > 0) {
    io.stderr(USAGE);
    return 2;
  }
  try {
    const loaded = await loadConfigFile(file, maxSize.configMaxBytes === undefined ? {} : { maxBytes: maxSize.configMaxBytes });
    const targets = plural(loaded.config.targets.length, 'target');
    io.stdout(`${file}: OK (${targets}, ${plural(loaded.jobs.length, 'probe job')})\n`);
    for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);
    return 0;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return 1;
  }
}
