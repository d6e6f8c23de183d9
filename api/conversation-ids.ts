/**
 * How REST names conversations: a client id ("demo") is the caller's API conversation (`api:<user>:demo`), or
 * another user's with `?user=` for operators (read) and admins (change); a full id (`web:alice:x`,
 * `api%3Aalice%3Ademo`, `telegram:42`) names any conversation the caller may reach (lib/conversation-address.ts).
 */
import type { Context } from 'hono';
import { z } from '@hono/zod-openapi';
import type { Role } from '../lib/auth';
import { clientIdPattern, clientIdRule, parseConversationId, type ConversationRef } from '../lib/conversation-address';
import type { Conversations } from '../lib/conversations';
import { callerOf } from './caller';

export const clientIdSchema = z.string().regex(clientIdPattern, clientIdRule);

/** A client id or a full conversation id. */
export const conversationNameSchema = z
  .string()
  .refine((name) => clientIdPattern.test(name) || parseConversationId(name) !== undefined, {
    message: `${clientIdRule}, or a full id such as web:<user>:<id>`,
  });

/** `?user=`: whose conversation an operator or admin means. */
export const ownerQuery = z.object({
  user: z.string().min(1).max(255).optional().openapi({ description: "Another user's id (the token's sub): operators read, admins also reset." }),
});

/** The conversation the path's `id` names for the caller; `need` is what another user's conversation requires. */
export function conversationNamed(c: Context, conversations: Conversations, id: string, need: Exclude<Role, 'user'>): ConversationRef {
  return conversations.address(callerOf(c), id, { channel: 'api', need, owner: c.req.query('user') });
}
