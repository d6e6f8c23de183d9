/**
 * GET /api/v1/conversations/:id/events: the conversation's event stream as SSE (`token`, `restart`,
 * `reply`). Each event's id is its Redis stream id, so a client resumes with `Last-Event-ID` (or `?after=`).
 */
import { randomUUID } from 'node:crypto';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { isEventId } from '../../lib/conversation-store';
import { LimitExceededError, OverloadedError } from '../../lib/errors';
import { principalOf } from '../auth';
import { apiConversationId, clientIdSchema, ownerOf, ownerQuery } from '../conversation-ids';
import { requireConversation } from '../conversation-lookup';
import type { ApiDeps } from '../deps';
import { conversationParams, problemResponse } from '../schemas';

/** How long one blocking read waits before the stream sends a keep-alive comment. */
const pollMs = 10_000;

export function eventRoutes(deps: ApiDeps, app: OpenAPIHono) {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/api/v1/conversations/{id}/events',
    summary: 'Server-sent events: tokens as they stream, restarts, replies',
    request: { params: conversationParams, query: ownerQuery.extend({ after: z.string().optional() }) },
    responses: {
      200: { description: 'text/event-stream; resume with Last-Event-ID or ?after=<event id>.' },
      400: problemResponse('Bad conversation id or event id.'),
      404: problemResponse('No such conversation.'),
      429: problemResponse('You have as many event streams open as you may (Retry-After).'),
      503: problemResponse('Temporal or Redis is unavailable, or this server is at its limit of open streams (Retry-After).'),
    },
  });

  return app.get('/api/v1/conversations/:id/events', async (c) => {
    const id = clientIdSchema.safeParse(c.req.param('id'));
    if (!id.success) throw new HTTPException(400, { message: `id: ${id.error.issues[0]?.message}` });
    const resumeFrom = c.req.header('last-event-id') ?? c.req.query('after');
    if (resumeFrom !== undefined && !isEventId(resumeFrom)) {
      throw new HTTPException(400, { message: 'Last-Event-ID / after must be an event id such as 1700000000000-0' });
    }
    const conversationId = apiConversationId(ownerOf(c, id.data, 'operator'), id.data);
    await requireConversation(deps, conversationId, id.data);
    let cursor = resumeFrom ?? (await deps.replies.lastEventId(conversationId));

    const { user } = principalOf(c);
    const lease = randomUUID();
    const { streams, waiting } = deps.limits;
    if (!(await streams.hold(user, lease))) {
      const most = deps.config.limits.streamsPerUser;
      throw new LimitExceededError(`You already have ${most} event streams open, the most allowed; close one first.`, 10);
    }
    if (!waiting.tryEnter()) {
      await streams.release(user, lease);
      throw new OverloadedError('This server has as many open streams and waiting requests as it may; retry in a few seconds.');
    }
    const onError = async (error: Error) => {
      deps.logger.warn({ conversationId, error: error.message }, 'event stream ended by an error');
    };
    return streamSSE(c, async (stream) => {
      deps.metrics.http.eventStreams.inc();
      try {
        while (!stream.aborted) {
          const events = await deps.replies.readEvents(conversationId, cursor, { blockMs: pollMs, count: 100 });
          if (events.length === 0) await stream.write(': keep-alive\n\n');
          for (const { id: eventId, ...event } of events) {
            await stream.writeSSE({ id: eventId, event: event.type, data: JSON.stringify(event) });
            cursor = eventId;
          }
          await streams.hold(user, lease); // renewed while it runs; lapses on its own if this process dies
        }
      } finally {
        deps.metrics.http.eventStreams.dec();
        waiting.leave();
        await streams.release(user, lease).catch(() => undefined);
      }
    }, onError);
  });
}
