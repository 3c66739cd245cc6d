import type { CommandResult, ImapSession } from '../session.js';
import type { ImapResponse } from '../parser.js';

/** CAPABILITY: the list from the untagged reply (or the tagged OK's code, as some servers send). */
export async function capability(session: ImapSession): Promise<CommandResult & { capabilities: string[] }> {
  const result = await session.command('CAPABILITY');
  return { ...result, capabilities: capabilitiesIn([...result.untagged, result.tagged]) ?? [] };
}

/** Capabilities announced by any of these responses: `* CAPABILITY …` or an `[CAPABILITY …]` code. */
export function capabilitiesIn(responses: readonly ImapResponse[]): string[] | undefined {
  for (const response of responses) {
    if (response.kind === 'CAPABILITY') return response.data.filter((v): v is string => typeof v === 'string');
    if (response.code?.name === 'CAPABILITY') return response.code.args.split(' ').filter((c) => c !== '');
  }
  return undefined;
}
