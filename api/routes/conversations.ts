/** Conversation resources: snapshot, full history (live + archived), reset, deletion. */
import { randomUUID } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { hasRole } from '../../lib/auth';
import type { Turn } from '../../workflows/messages';
import { audit } from '../audit';
import { principalOf } from '../auth';
import { apiConversation, apiConversationId, ownerOf, ownerQuery } from '../conversation-ids';
import { findConversation, requireConversation } from '../conversation-lookup';
import type { ApiDeps } from '../deps';
import { conversationParams, historyPage, historyQuery, problemResponse, snapshotSchema } from '../schemas';

export function conversationRoutes(deps: ApiDeps, app: OpenAPIHono) {
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
    .openapi(deleteRoute, async (c) => {
      const { id } = c.req.valid('param');
      const owner = ownerOf(c, id, 'admin');
      const principal = principalOf(c);
      if (!hasRole(principal, 'admin')) {
        audit(c, 'role.denied', apiConversationId(owner, id), 'denied');
        throw new HTTPException(403, { message: 'Deleting a conversation needs the admin role.' });
      }
      const conversationId = apiConversationId(owner, id);
      await requireConversation(deps, conversationId, id);
      // The run first, so that nothing writes to Redis or the archive behind the deletion.
      const runs = await deps.conversations.delete(conversationId, `deleted by ${principal.user}`);
      await deps.replies.forget(conversationId);
      const transcriptSegments = await deps.history.forget(conversationId);
      const texts = await deps.texts.forget(conversationId);
      audit(c, 'conversation.delete', conversationId, 'done');
      return c.json({ conversationId: id, deleted: { runs, transcriptSegments, texts } }, 200);
    })
    .openapi(snapshotRoute, async (c) => {
      const { id } = c.req.valid('param');
      const found = await findConversation(deps, apiConversationId(ownerOf(c, id, 'operator'), id), id);
      if (found.state === 'running') {
        const { unarchivedTurns: _, recentTurns, ...snapshot } = found.snapshot;
        return c.json({ ...snapshot, recentTurns: await deps.texts.resolveTurns(recentTurns), conversationId: id }, 200);
      }
      const context = found.context;
      return c.json(
        {
          conversationId: id,
          status: 'closed' as const,
          turnCount: context?.turnCount ?? 0,
          pendingCount: 0,
          summary: context?.summary ?? '',
          recentTurns: await deps.texts.resolveTurns(context?.window ?? []),
        },
        200,
      );
    })
    .openapi(historyRoute, async (c) => {
      const { id } = c.req.valid('param');
      const { after, limit } = c.req.valid('query');
      const conversationId = apiConversationId(ownerOf(c, id, 'operator'), id);
      const found = await findConversation(deps, conversationId, id);
      // Live turns first, archive second: a turn archived in between is then found in the archive.
      const live = found.state === 'running' ? found.snapshot.unarchivedTurns : [];
      const { turns: archived } = await deps.history.readTurns(conversationId, { afterTurn: after, limit });
      const byNumber = new Map<number, Turn>();
      for (const turn of [...archived, ...live]) if (turn.number > after) byNumber.set(turn.number, turn);
      const page = await deps.texts.resolveTurns([...byNumber.values()].sort((a, b) => a.number - b.number).slice(0, limit));
      const nextAfter = page.length === limit ? page[page.length - 1]!.number : null;
      return c.json({ conversationId: id, messages: page.flatMap(historyItems), nextAfter }, 200);
    })
    .openapi(resetRoute, async (c) => {
      const { id } = c.req.valid('param');
      const conversation = apiConversation(ownerOf(c, id, 'admin'), id);
      await requireConversation(deps, conversation.id, id);
      await deps.conversations.reset(conversation, randomUUID());
      audit(c, 'conversation.reset', conversation.id, 'done');
      return c.json({ conversationId: id }, 202);
    });
}

function historyItems(turn: Turn) {
  const asked = turn.messages.map((m) => ({
    turn: turn.number,
    role: 'user' as const,
    id: m.messageId,
    text: m.text,
    at: m.receivedAt,
  }));
  const { reply } = turn;
  const answered = {
    turn: turn.number,
    role: 'assistant' as const,
    id: reply.replyId,
    text: reply.text,
    at: reply.createdAt,
    inReplyTo: reply.inReplyTo,
    provider: reply.provider,
    model: reply.model,
  };
  return [...asked, answered];
}
