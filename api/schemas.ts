/** Request and response schemas of the HTTP API (also the source of /openapi.json). */
import { z } from '@hono/zod-openapi';
import { clientIdSchema, conversationNameSchema } from './conversation-ids';

export const conversationParams = z.object({
  id: conversationNameSchema.openapi({
    param: { name: 'id', in: 'path' },
    example: 'demo',
    description: 'Your conversation id, or a full one (`web:<user>:<id>`, `api:<user>:<id>`, `telegram:<chat>`).',
  }),
});

export function chatRequestSchema(maxTextChars: number) {
  return z
    .strictObject({
      conversationId: clientIdSchema.optional().openapi({ description: 'Omit to start a new conversation.', example: 'demo' }),
      text: z
        .string()
        .max(maxTextChars, `text must be at most ${maxTextChars} characters`)
        .refine((text) => text.trim().length > 0, 'text must not be empty'),
      messageId: z.string().min(1).max(200).optional().openapi({
        description: 'Stable id for retries (or send an Idempotency-Key header): a repeat never makes a second reply.',
      }),
      wait: z.boolean().default(true).openapi({ description: 'false: answer 202 at once and read the reply from eventsUrl.' }),
    })
    .openapi('ChatRequest');
}

const usage = z.object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() });

const replySchema = z
  .object({
    replyId: z.string(),
    inReplyTo: z.array(z.string()),
    text: z.string(),
    provider: z.string(),
    model: z.string(),
    usage,
    kind: z.enum(['answer', 'apology']),
    createdAt: z.string(),
  })
  .openapi('Reply');

export const chatAnswered = z
  .object({ conversationId: z.string(), messageId: z.string(), reply: replySchema })
  .openapi('ChatAnswered');

export const chatQueued = z
  .object({
    conversationId: z.string(),
    messageId: z.string(),
    status: z.literal('queued'),
    eventsUrl: z.string().openapi({ description: 'SSE stream on which the reply will appear.' }),
  })
  .openapi('ChatQueued');

const turn = z.object({
  number: z.number(),
  messages: z.array(z.object({ messageId: z.string(), text: z.string(), receivedAt: z.string() })),
  reply: replySchema,
});

export const snapshotSchema = z
  .object({
    conversationId: z.string(),
    status: z.enum(['waiting', 'thinking', 'closing', 'closed']),
    turnCount: z.number(),
    pendingCount: z.number(),
    summary: z.string(),
    recentTurns: z.array(turn),
    lastModel: z.string().optional().openapi({ description: 'provider/model of the last answer.' }),
    counters: z.record(z.string(), z.number()).optional(),
  })
  .openapi('ConversationSnapshot');

export const historyQuery = z.object({
  after: z.coerce.number().int().min(0).default(0).openapi({ description: 'Return turns after this turn number.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'Turns per page.' }),
});

const historyItem = z
  .object({
    turn: z.number(),
    role: z.enum(['user', 'assistant']),
    id: z.string(),
    text: z.string(),
    at: z.string(),
    inReplyTo: z.array(z.string()).optional(),
    provider: z.string().optional(),
    model: z.string().optional(),
  })
  .openapi('HistoryItem');

export const historyPage = z
  .object({
    conversationId: z.string(),
    messages: z.array(historyItem),
    nextAfter: z.number().nullable().openapi({ description: 'Pass as `after` for the next page; null at the end.' }),
  })
  .openapi('HistoryPage');

const problemSchema = z
  .object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string(), instance: z.string().optional() })
  .openapi('Problem');

/** An OpenAPI response entry for a problem+json error. */
export function problemResponse(description: string) {
  return { description, content: { 'application/problem+json': { schema: problemSchema } } };
}

export const conversationList = z
  .object({
    conversations: z.array(
      z.object({
        id: z.string().openapi({ description: 'The full id (`api:<user>:<id>`, `web:<user>:<id>`): usable in every route.' }),
        channel: z.enum(['api', 'web']),
        clientId: z.string(),
        title: z.string().openapi({ description: 'Its first message, shortened (the client id when Redis has lost it).' }),
        status: z.string(),
        turnCount: z.number(),
        lastActiveAt: z.string(),
      }),
    ),
  })
  .openapi('ConversationList');
