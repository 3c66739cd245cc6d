/** `imap_exporter config check FILE`: validate a config as the daemon would load it (exit 0 valid, 1 invalid, 2 usage). */
import { loadConfigFile } from '../config/load.js';

export interface CheckIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const USAGE = 'usage: imap_exporter config check FILE\n';

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `args` are the words after `config check`. */
export async function runConfigCheck(args: string[], io: CheckIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(USAGE);
    return 0;
  }
  const [file, ...rest] = args;
  if (file === undefined || file.startsWith('-') || rest.length > 0) {
    io.stderr(USAGE);
    return 2;
  }
  try {
    const loaded = await loadConfigFile(file);
    const targets = plural(loaded.config.targets.length, 'target');
    io.stdout(`${file}: OK (${targets}, ${plural(loaded.jobs.length, 'probe job')})\n`);
    for (const warning of loaded.warnings) io.stderr(`warning: ${warning}\n`);
    return 0;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return 1;
  }
}
