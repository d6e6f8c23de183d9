/**
 * A conversation's events as the subscription yields them: the same `token`, `restart` and `reply` events the SSE
 * route and Socket.IO send, each with its Redis stream id (pass it as `after` to resume right after it).
 */
import type { StoredEvent } from '../../lib/conversation-events';
import type { GraphqlBuilder } from './builder';
import type { ConversationTypes } from './conversation-types';

export type EventTypes = ReturnType<typeof eventTypes>;

type EventOf<Type extends StoredEvent['type']> = Extract<StoredEvent, { type: Type }>;

const typeNames = { token: 'TokenEvent', restart: 'RestartEvent', reply: 'ReplyEvent' } as const;

export function eventTypes(builder: GraphqlBuilder, { Reply }: Pick<ConversationTypes, 'Reply'>) {
  const ConversationEvent = builder.interfaceRef<StoredEvent>('ConversationEvent').implement({
    description: 'One event of a conversation: a token of a reply being written, a restart of it, or the finished reply.',
    resolveType: (event) => typeNames[event.type],
    fields: (t) => ({
      id: t.exposeString('id', { description: 'The event id (a Redis stream id): pass it as `after` to resume after this event.' }),
      replyId: t.id({ description: 'The reply this event belongs to.', resolve: (event) => (event.type === 'reply' ? event.reply.replyId : event.replyId) }),
    }),
  });
  builder.objectRef<EventOf<'token'>>(typeNames.token).implement({
    description: 'A piece of reply text as the model writes it.',
    interfaces: [ConversationEvent],
    fields: (t) => ({
      attempt: t.exposeInt('attempt'),
      index: t.exposeInt('index', { description: 'Counts from 0 within one attempt.' }),
      text: t.exposeString('text'),
    }),
  });
  builder.objectRef<EventOf<'restart'>>(typeNames.restart).implement({
    description: "The model's attempt at this reply starts over: drop the text received for it so far.",
    interfaces: [ConversationEvent],
    fields: (t) => ({ attempt: t.exposeInt('attempt') }),
  });
  builder.objectRef<EventOf<'reply'>>(typeNames.reply).implement({
    description: 'The finished reply (once per replyId).',
    interfaces: [ConversationEvent],
    fields: (t) => ({ reply: t.expose('reply', { type: Reply }) }),
  });
  return { ConversationEvent };
}
