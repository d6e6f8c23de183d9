/** Conversation resources: the caller's list, snapshot, full history (live + archived), reset, deletion. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { callerOf } from '../caller';
import { conversationNamed, ownerQuery } from '../conversation-ids';
import type { ApiDeps } from '../deps';
import { conversationList, conversationParams, historyPage, historyQuery, problemResponse, snapshotSchema } from '../schemas';

export function conversationRoutes({ conversations }: ApiDeps, app: OpenAPIHono) {
  const listRoute = createRoute({
    method: 'get',
    path: '/api/v1/conversations',
    summary: 'Your conversations (API and web), newest first',
    request: { query: ownerQuery },
    responses: {
      200: { description: 'Up to 100 conversations.', content: { 'application/json': { schema: conversationList } } },
      503: problemResponse('Temporal or Redis is unavailable.'),
    },
  });
  const snapshotRoute = createRoute({
    method: 'get',
    path: '/api/v1/conversations/{id}',
    summary: 'What the conversation knows now',
    request: { params: conversationParams, query: ownerQuery },
    responses: {
      200: { description: 'Snapshot.', content: { 'application/json': { schema: snapshotSchema } } },
      404: problemResponse('No such conversation.'),
      503: problemResponse('Temporal or Redis is unavailable.'),
    },
  });
  const historyRoute = createRoute({
    method: 'get',
    path: '/api/v1/conversations/{id}/messages',
    summary: 'Full history, oldest first, paginated by turn',
    request: { params: conversationParams, query: historyQuery.extend(ownerQuery.shape) },
    responses: {
      200: { description: 'One page of messages.', content: { 'application/json': { schema: historyPage } } },
      404: problemResponse('No such conversation.'),
      503: problemResponse('Temporal, Redis or the archive is unavailable.'),
    },
  });
  const resetRoute = createRoute({
    method: 'post',
    path: '/api/v1/conversations/{id}/reset',
    summary: 'Start a fresh context (history stays archived)',
    request: { params: conversationParams, query: ownerQuery },
    responses: {
      202: {
        description: 'Reset queued; it applies after the messages sent before it.',
        content: { 'application/json': { schema: snapshotSchema.pick({ conversationId: true }) } },
      },
      403: problemResponse("Another user's conversation, for an operator: resetting it needs the admin role."),
      404: problemResponse('No such conversation.'),
      503: problemResponse('Temporal or Redis is unavailable.'),
    },
  });

  const deleteRoute = createRoute({
    method: 'delete',
    path: '/api/v1/conversations/{id}',
    summary: 'Delete the conversation everywhere: its run, its histories in Temporal, Redis and the archive (admin)',
    request: { params: conversationParams, query: ownerQuery },
    responses: {
      200: {
        description: 'Deleted; Temporal removes the runs\' histories in the background.',
        content: {
          'application/json': {
            schema: z.object({ conversationId: z.string(), deleted: z.object({ runs: z.number(), transcriptSegments: z.number(), texts: z.number() }) }),
          },
        },
      },
      403: problemResponse('Deleting needs the admin role.'),
      404: problemResponse('No such conversation.'),
      503: problemResponse('Temporal, Redis or the archive is unavailable; nothing or part was deleted: send it again.'),
    },
  });

  return app
    .openapi(listRoute, async (c) => {
      const { user } = c.req.valid('query');
      return c.json({ conversations: await conversations.list(callerOf(c), user) }, 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { id } = c.req.valid('param');
      const conversation = conversationNamed(c, conversations, id, 'admin');
      const deleted = await conversations.delete(callerOf(c), conversation);
      return c.json({ conversationId: id, deleted }, 200);
    })
    .openapi(snapshotRoute, async (c) => {
      const { id } = c.req.valid('param');
      const view = await conversations.view(conversationNamed(c, conversations, id, 'operator'));
      return c.json({ ...view, conversationId: id }, 200);
    })
    .openapi(historyRoute, async (c) => {
      const { id } = c.req.valid('param');
      const page = await conversations.history(conversationNamed(c, conversations, id, 'operator'), c.req.valid('query'));
      return c.json({ conversationId: id, ...page }, 200);
    })
    .openapi(resetRoute, async (c) => {
      const { id } = c.req.valid('param');
      await conversations.reset(callerOf(c), conversationNamed(c, conversations, id, 'admin'));
      return c.json({ conversationId: id }, 202);
    });
}
