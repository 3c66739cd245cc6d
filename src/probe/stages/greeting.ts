import { capabilitiesIn, capability } from '../../imap/commands/capability.js';
import { ImapLimitError, ImapProtocolError } from '../../imap/errors.js';
import { describeStatus, type ImapResponse } from '../../imap/parser.js';
import { ImapSession } from '../../imap/session.js';
import type { ProbeContext } from '../context.js';
import { ProbeError } from '../errors.js';
import { responseCodeCause } from '../hints.js';

/** Reads the greeting (`* OK`, `* PREAUTH` or `* BYE`) and learns the capabilities. */
export async function greetingStage(ctx: ProbeContext): Promise<void> {
  if (!ctx.socket) throw new Error('greeting stage without a connection');
  const session = new ImapSession(ctx.socket, ctx.limits, (direction, text) => ctx.transcript.record(direction, text));
  ctx.session = session;
  const greeting = await readGreeting(session);
  ctx.facts.greeting = greeting.text;
  if (greeting.kind === 'PREAUTH') ctx.facts.preauth = true;
  if (greeting.kind === 'BYE') {
    throw new ProbeError('greeting_bye', `server refused the session: * ${describeStatus(greeting)}`, {
      hintCause: responseCodeCause(greeting.code?.name),
    });
  }
  if (greeting.kind !== 'OK' && greeting.kind !== 'PREAUTH') {
    throw new ProbeError('greeting_invalid', `expected * OK, got * ${greeting.kind}`);
  }
  // Servers that do not put [CAPABILITY …] in the greeting are asked: later stages need it.
  let capabilities = capabilitiesIn([greeting]);
  if (!capabilities) {
    const asked = await capability(session);
    if (asked.status !== 'OK') {
      throw new ProbeError('protocol_error', `CAPABILITY answered ${asked.status} ${asked.tagged.text}`.trim());
    }
    capabilities = asked.capabilities;
  }
  ctx.facts.capabilities = capabilities;
  if (ctx.encrypted) ctx.facts.capabilitiesAfterTls = capabilities;
  else ctx.facts.capabilitiesBeforeTls = capabilities;
}

async function readGreeting(session: ImapSession): Promise<ImapResponse> {
  let greeting: ImapResponse;
  try {
    greeting = await session.readResponse();
  } catch (error) {
    if (error instanceof ImapLimitError) throw error;
    if (error instanceof ImapProtocolError) {
      throw new ProbeError('greeting_invalid', `not an IMAP greeting: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (greeting.tag !== '*') {
    throw new ProbeError('greeting_invalid', `not an IMAP greeting: starts with "${greeting.tag}"`);
  }
  return greeting;
}
