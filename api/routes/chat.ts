/** POST /api/v1/chat: deliver a message and wait (bounded) for the reply. */
import { randomUUID } from 'node:crypto';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import type { ApiDeps } from '../deps';
import { principalOf } from '../auth';
import { apiConversation } from '../conversation-ids';
import { chatAnswered, chatQueued, chatRequestSchema, problemResponse } from '../schemas';

export function chatRoutes({ config, conversations, replies, logger, limits }: ApiDeps, app: OpenAPIHono) {
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
    const { user } = principalOf(c);
    const conversation = apiConversation(user, clientId);
    const conversationId = conversation.id;

    // Read the stream position before anything else: a reply published after it is seen by the wait below,
    // one published before it is found in the reply index.
    const afterId = await replies.lastEventId(conversationId);
    const earlier = await replies.findReply(conversationId, messageId);
    if (earlier) return c.json({ conversationId: clientId, messageId, reply: earlier }, 200);

    await limits.messages.within(user, clientId, messageId, () =>
      conversations.send(conversation, { messageId, text: body.text, receivedAt: new Date().toISOString() }),
    );
    const queued = {
      conversationId: clientId,
      messageId,
      status: 'queued' as const,
      eventsUrl: `/api/v1/conversations/${clientId}/events?after=${afterId}`,
    };
    // Past this process's cap on waiting requests the message is still taken: only the wait is skipped.
    if (!body.wait || !limits.waiting.tryEnter()) return c.json(queued, 202);
    // The message is accepted now: if waiting fails (Redis went away) the honest answer is 202, not an error that
    // invites a retry without the messageId and so a second turn.
    const reply = await replies
      .waitForReply(conversationId, messageId, afterId, config.api.chatWait)
      .catch((error: unknown) => {
        logger.warn({ conversationId, messageId, error: (error as Error).message }, 'waiting for the reply failed; answering 202');
        return null;
      })
      .finally(() => limits.waiting.leave());
    return reply ? c.json({ conversationId: clientId, messageId, reply }, 200) : c.json(queued, 202);
  });
}
