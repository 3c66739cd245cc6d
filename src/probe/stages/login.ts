import { capabilitiesIn } from '../../imap/commands/capability.js';
import { authenticate } from '../../imap/commands/login.js';
import type { ProbeContext } from '../context.js';
import { hasCapability, requireAccount, requireSession } from '../context.js';
import { ProbeError } from '../errors.js';

/** LOGIN or AUTHENTICATE, after checking that the server may and we should send a password. */
export async function loginStage(ctx: ProbeContext): Promise<void> {
  const session = requireSession(ctx);
  const account = requireAccount(ctx);
  const password = await readPassword(ctx);
  ctx.transcript.addSecret(password);

  if (account.auth === 'login' && hasCapability(ctx, 'LOGINDISABLED')) {
    throw new ProbeError('login_disabled', 'the server advertises LOGINDISABLED on this connection');
  }
  if (account.auth !== 'login' && !hasCapability(ctx, `AUTH=${account.auth.toUpperCase()}`)) {
    if (hasCapability(ctx, 'LOGINDISABLED')) {
      throw new ProbeError('login_disabled', `the server advertises LOGINDISABLED and no AUTH=${account.auth.toUpperCase()} on this connection`);
    }
    throw new ProbeError('auth_mechanism_unsupported', `the server does not advertise AUTH=${account.auth.toUpperCase()}`);
  }
  if (!ctx.encrypted && !account.allowPlaintextAuth) {
    throw new ProbeError('plaintext_refused', 'not sending a password over an unencrypted connection (allow_plaintext_auth is off)');
  }

  const answer = await authenticate(
    session,
    { username: account.username, password },
    {
      mechanism: account.auth,
      saslIr: hasCapability(ctx, 'SASL-IR'),
      literalPlus: hasCapability(ctx, 'LITERAL+') || hasCapability(ctx, 'LITERAL-'),
    },
  );
  const said = `${answer.status} ${answer.tagged.code ? `[${answer.tagged.code.name}] ` : ''}${answer.tagged.text}`.trim();
  if (answer.status === 'NO') throw new ProbeError('auth_failed', `the server answered ${said}`);
  if (answer.status === 'BAD') throw new ProbeError('protocol_error', `the server answered ${said}`);
  const after = capabilitiesIn([...answer.untagged, answer.tagged]);
  if (after) ctx.facts.capabilitiesAfterLogin = after;
}

async function readPassword(ctx: ProbeContext): Promise<string> {
  try {
    return await requireAccount(ctx).password();
  } catch (error) {
    // The message names the file or variable; the secret itself is never in it.
    const message = error instanceof Error ? error.message : String(error);
    throw new ProbeError('credentials_unavailable', message, { cause: error });
  }
}
