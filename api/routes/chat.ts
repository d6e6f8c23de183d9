/** POST /api/v1/chat: deliver a message and wait (bounded) for the reply. */
import { randomUUID } from 'node:crypto';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import type { ApiDeps } from '../deps';
import { userConversation } from '../../lib/conversation-address';
import { callerOf } from '../caller';
import { chatAnswered, chatQueued, chatRequestSchema, problemResponse } from '../schemas';

export function chatRoutes({ config, conversations }: ApiDeps, app: OpenAPIHono) {
  const route = createRoute({
    method: 'post',
    path: '/api/v1/chat',
    summary: 'Send a message and get the reply',
    request: { body: { content: { 'application/json': { schema: chatRequestSchema(config.api.maxTextChars) } }, required: true } },
    responses: {
      200: { description: 'The reply arrived in time.', content: { 'application/json': { schema: chatAnswered } } },
      202: { description: 'Accepted; the reply will appear on eventsUrl.', content: { 'application/json': { schema: chatQueued } } },
      413: problemResponse('Body too large.'),
      415: problemResponse('Not application/json.'),
      400: problemResponse('Malformed JSON, or a bad Idempotency-Key header.'),
      422: problemResponse('A field is invalid; `errors` names it.'),
      429: problemResponse('Over your messages per minute, or the conversation has too many messages waiting for a reply; send again after Retry-After.'),
      503: problemResponse('Temporal or Redis is unavailable; retry with the same messageId.'),
    },
  });

  return app.openapi(route, async (c) => {
    const body = c.req.valid('json');
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 200)) {
      throw new HTTPException(400, { message: 'Idempotency-Key must be 1-200 characters.' });
    }
    if (idempotencyKey !== undefined && body.messageId !== undefined && idempotencyKey !== body.messageId) {
      throw new HTTPException(422, { message: 'Idempotency-Key header and messageId differ; send one of them, or the same value.' });
    }
    const messageId = idempotencyKey ?? body.messageId ?? randomUUID();
    const clientId = body.conversationId ?? randomUUID();
    const caller = callerOf(c);
    const conversation = userConversation('api', caller.principal.user, clientId);
    const posted = await conversations.post(caller, conversation, { text: body.text, messageId }, { wait: body.wait });
    if (posted.status === 'answered') return c.json({ conversationId: clientId, messageId, reply: posted.reply }, 200);
    const eventsUrl = `/api/v1/conversations/${clientId}/events?after=${posted.after}`;
    return c.json({ conversationId: clientId, messageId, status: 'queued' as const, eventsUrl }, 202);
  });
}
