import { capabilitiesIn, capability } from '../../imap/commands/capability.js';
import { authenticate, clientSecrets, cramResponsePatterns } from '../../imap/commands/login.js';
import { describeStatus } from '../../imap/parser.js';
import type { ProbeContext } from '../context.js';
import { hasCapability, requireAccount, requireSession } from '../context.js';
import { ProbeError } from '../errors.js';
import { responseCodeCause } from '../hints.js';

/** LOGIN or AUTHENTICATE, after checking that the server may and we should send a password. */
export async function loginStage(ctx: ProbeContext): Promise<void> {
  // PREAUTH: the session is authenticated already (LOGIN would be BAD); the stage passes with a note.
  if (ctx.facts.preauth) {
    ctx.transcript.record('-', 'login skipped: the server greeted with PREAUTH (already authenticated)');
    return;
  }
  const session = requireSession(ctx);
  const account = requireAccount(ctx);
  const password = passwordOf(ctx);

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
      onSecret: (secret) => ctx.transcript.addSecret(secret),
    },
  );
  const said = `the server answered ${describeStatus(answer.tagged)}`;
  const code = answer.tagged.code?.name;
  const hintCause = responseCodeCause(code);
  // RFC 5530: UNAVAILABLE is the server failing to check the password, not the password failing.
  if (answer.status === 'NO') throw new ProbeError(code === 'UNAVAILABLE' ? 'auth_unavailable' : 'auth_failed', said, { hintCause });
  if (answer.status === 'BAD') throw new ProbeError('protocol_error', said, { hintCause });
  session.markAuthenticated();
  const after = capabilitiesIn([...answer.untagged, answer.tagged]) ?? (await askCapabilities(ctx));
  if (after) ctx.facts.capabilitiesAfterLogin = after;
}

/**
 * RFC 3501 §6.2: capabilities may change after login; a server that did not say so in its OK
 * is asked. A close in answer to this CAPABILITY counts as right after login; CAPABILITY does
 * not open the account, so the command after it is still the first that does.
 */
async function askCapabilities(ctx: ProbeContext): Promise<string[] | undefined> {
  const session = requireSession(ctx);
  const asked = await capability(session);
  session.markAuthenticated();
  return asked.status === 'OK' ? asked.capabilities : undefined;
}

/**
 * Reads the password and registers every secret the login may send with the transcript.
 * The runner calls it before connecting, so a greeting cannot carry a secret out; a read
 * failure is kept for the login stage to report, where the contract puts it.
 */
export async function preparePassword(ctx: ProbeContext): Promise<void> {
  const account = requireAccount(ctx);
  try {
    const value = await ctx.deadline.race(account.password());
    for (const secret of clientSecrets({ username: account.username, password: value })) ctx.transcript.addSecret(secret);
    for (const pattern of cramResponsePatterns(account.username)) ctx.transcript.addSecretPattern(pattern);
    ctx.password = { value };
  } catch (error) {
    ctx.password = { error };
  }
}

function passwordOf(ctx: ProbeContext): string {
  const read = ctx.password ?? { error: new Error('the password was not read before connecting') };
  if ('value' in read) return read.value;
  // The message names the file or variable; the secret itself is never in it.
  const message = read.error instanceof Error ? read.error.message : String(read.error);
  throw new ProbeError('credentials_unavailable', message, { cause: read.error });
}
