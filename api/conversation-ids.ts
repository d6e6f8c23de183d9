/**
 * Client-facing conversation ids ("demo") and the workflow ids they map to ("api:<user>:demo"), where the user is
 * the token's `sub`: one user's conversations are apart from another's. Operators read, and admins also reset,
 * another user's conversation by naming its owner with `?user=`.
 */
import type { Context } from 'hono';
import { z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { hasRole, type Role } from '../lib/auth';
import type { ConversationRef } from '../lib/conversations';
import { audit } from './audit';
import { principalOf } from './auth';
import { notFound } from './conversation-lookup';

export const clientIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'use 1-128 characters from A-Z a-z 0-9 . _ ~ -');

/** `?user=`: whose conversation an operator or admin means. */
export const ownerQuery = z.object({
  user: z.string().min(1).max(255).optional().openapi({ description: "Another user's id (the token's sub): operators read, admins also reset." }),
});

/**
 * Whose conversation `clientId` is: the caller's own, or the `?user=` named when the caller holds `othersNeed`.
 * An operator who may see it but not do this gets 403; anyone else gets exactly the 404 of a conversation that does
 * not exist, so that nobody learns which ids other users have.
 */
export function ownerOf(c: Context, clientId: string, othersNeed: Role): string {
  const { user, role } = principalOf(c);
  const named = c.req.query('user');
  if (named === undefined || named === user) return user;
  const target = apiConversationId(named, clientId);
  if (hasRole({ user, role }, othersNeed)) {
    // A reset is audited as such by its route; a read of someone else's conversation here.
    if (othersNeed === 'operator') audit(c, 'conversation.read-other', target, 'allowed');
    return named;
  }
  audit(c, 'role.denied', target, 'denied');
  if (hasRole({ user, role }, 'operator')) {
    throw new HTTPException(403, { message: `Doing this to another user's conversation needs the ${othersNeed} role.` });
  }
  throw notFound(clientId);
}

export function apiConversationId(user: string, clientId: string): string {
  return `api:${user}:${clientId}`;
}

/** The API conversation as the engine knows it: workflow id, channel, user and a title for the Temporal UI. */
export function apiConversation(user: string, clientId: string): ConversationRef {
  return { id: apiConversationId(user, clientId), channel: 'api', user, title: `API conversation "${clientId}" with ${user}` };
}
