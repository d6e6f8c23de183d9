/**
 * Client-facing conversation ids ("demo") and the workflow ids they map to ("api:<user>:demo").
 * The user prefix keeps one user's conversations apart from another's.
 */
import type { Context } from 'hono';
import { z } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import type { ConversationRef } from '../lib/conversations';

export const clientIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'use 1-128 characters from A-Z a-z 0-9 . _ ~ -');

const userIdPattern = /^[A-Za-z0-9._~@-]{1,64}$/;

/** Until authentication exists the user comes from `X-User-Id` (default `anonymous`); see README. */
export function userOf(c: Context): string {
  const user = c.req.header('x-user-id') ?? 'anonymous';
  if (!userIdPattern.test(user)) throw new HTTPException(400, { message: 'X-User-Id: use 1-64 characters from A-Z a-z 0-9 . _ ~ @ -' });
  return user;
}

export function apiConversationId(user: string, clientId: string): string {
  return `api:${user}:${clientId}`;
}

/** The API conversation as the engine knows it: workflow id, channel, user and a title for the Temporal UI. */
export function apiConversation(user: string, clientId: string): ConversationRef {
  return { id: apiConversationId(user, clientId), channel: 'api', user, title: `API conversation "${clientId}" with ${user}` };
}
