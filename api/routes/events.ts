/**
 * GET /api/v1/conversations/:id/events: the conversation's event stream as SSE (`token`, `restart`,
 * `reply`). Each event's id is its Redis stream id, so a client resumes with `Last-Event-ID` (or `?after=`).
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { isEventId } from '../../lib/conversation-store';
import { callerOf } from '../caller';
import { conversationNamed, conversationNameSchema, ownerQuery } from '../conversation-ids';
import type { ApiDeps } from '../deps';
import { conversationParams, problemResponse } from '../schemas';

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
    const id = conversationNameSchema.safeParse(c.req.param('id'));
    if (!id.success) throw new HTTPException(400, { message: `id: ${id.error.issues[0]?.message}` });
    const resumeFrom = c.req.header('last-event-id') ?? c.req.query('after');
    if (resumeFrom !== undefined && !isEventId(resumeFrom)) {
      throw new HTTPException(400, { message: 'Last-Event-ID / after must be an event id such as 1700000000000-0' });
    }
    const { conversations } = deps;
    const conversation = conversationNamed(c, conversations, id.data, 'operator');
    const feed = await conversations.events(callerOf(c), conversation, { after: resumeFrom });
    const onError = async (error: Error) => {
      deps.logger.warn({ conversationId: conversation.id, error: error.message }, 'event stream ended by an error');
    };
    return streamSSE(c, async (stream) => {
      deps.metrics.http.eventStreams.inc();
      try {
        for await (const events of feed) {
          if (stream.aborted) break;
          if (events.length === 0) await stream.write(': keep-alive\n\n');
          for (const { id: eventId, ...event } of events) {
            await stream.writeSSE({ id: eventId, event: event.type, data: JSON.stringify(event) });
          }
        }
      } finally {
        await feed.close();
        deps.metrics.http.eventStreams.dec();
      }
    }, onError);
  });
}
