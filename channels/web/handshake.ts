/**
 * Who is connecting: the handshake's `auth.token`, a bearer JWT checked by the verifier HTTP uses (lib/auth.ts).
 * A missing or refused token ends the handshake in `connect_error` whose `data` is a 401 problem+json body, and a
 * refused one is audited as HTTP audits it. A recovered connection is checked again (its token may have expired
 * meanwhile) and keeps what it followed only when the same user comes back.
 */
import { randomUUID } from 'node:crypto';
import type { ExtendedError } from 'socket.io';
import type { AuditLog } from '../../lib/audit-log';
import { AuthenticationError, type Principal, type Verifier } from '../../lib/auth';
import type { Logger } from '../../lib/logger';
import { logProblem, problem, problemOf } from './problem';
import type { Problem } from './protocol';
import type { EdgeSocket } from './web-socket-edge';

export interface HandshakeDeps {
  verify: Verifier;
  audit: Pick<AuditLog, 'record'>;
  logger: Logger;
}

export function authenticateHandshake({ verify, audit, logger }: HandshakeDeps) {
  return async (socket: EdgeSocket, next: (error?: ExtendedError) => void): Promise<void> => {
    const refuse = (body: Problem) => {
      logger.info({ 'socket.id': socket.id, 'problem.status': body.status }, 'socket refused');
      next(refusal(body));
    };
    const token: unknown = socket.handshake.auth['token'];
    if (typeof token !== 'string' || token.length === 0) {
      // Not audited: HTTP does not audit a request without credentials either.
      return refuse(problem(401, 'Send auth: { token: "<JWT>" } in the handshake (a bearer token from your identity provider).'));
    }
    let principal: Principal;
    try {
      principal = await verify(token);
    } catch (error) {
      const refused = problemOf(error);
      logProblem(logger, error, refused, { 'socket.id': socket.id });
      if (error instanceof AuthenticationError) {
        audit.record({
          actor: '(no valid token)',
          roles: [],
          action: 'auth.token-refused',
          target: `socket.io handshake: ${error.message}`,
          outcome: 'denied',
          requestId: randomUUID(),
          ip: socket.handshake.address,
        });
      }
      return refuse(refused);
    }
    const restored = socket.recovered && socket.data.principal?.user === principal.user ? socket.data.follows : {};
    socket.data = { principal, follows: restored };
    next();
  };
}

/**
 * The caller as the socket's token says now: checked at every event, as HTTP checks every request, so that a
 * connection does not outlive its token. @throws AuthenticationError
 */
export function principalOf(socket: EdgeSocket, verify: Verifier): Promise<Principal> {
  // A string: the handshake refused anything else.
  return verify(socket.handshake.auth['token'] as string);
}

function refusal(body: Problem): ExtendedError {
  return Object.assign(new Error(body.title), { data: body });
}
