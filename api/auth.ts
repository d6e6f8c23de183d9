/**
 * Bearer authentication for /api/*: every request carries a JWT (lib/auth.ts verifies it) and the route reads the
 * caller with principalOf(c). No credentials → 401 with a bare challenge (RFC 6750 §3); a refused token → 401
 * `error="invalid_token"` with the reason. Roles are checked where a route reaches past the caller's own
 * conversations (api/conversation-ids.ts).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { AuthenticationError, type Principal, type Verifier } from '../lib/auth';
import { audit } from './audit';
import { problem } from './problem';

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
  }
}

const realm = 'ai-assistant-core';

export function authenticate(verify: Verifier): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) return challenge(c, 'Send Authorization: Bearer <token> (a JWT from your identity provider).');
    const [scheme, token, ...rest] = header.trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'bearer' || !token || rest.length > 0) {
      return challenge(c, 'The Authorization header must be "Bearer <token>".', 'invalid_request');
    }
    try {
      c.set('principal', await verify(token));
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      audit(c, 'auth.token-refused', `${c.req.method} ${c.req.path}: ${error.message}`, 'denied');
      return challenge(c, `The token was refused: ${error.message}.`, 'invalid_token', error.message);
    }
    await next();
  };
}

export function principalOf(c: Context): Principal {
  return c.get('principal');
}

function challenge(c: Context, detail: string, error?: string, description?: string): Response {
  const parts = [`realm="${realm}"`];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${description.replace(/["\\]/g, "'")}"`);
  c.header('www-authenticate', `Bearer ${parts.join(', ')}`);
  return problem(c, 401, detail);
}
