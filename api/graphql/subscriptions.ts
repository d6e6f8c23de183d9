/** The subscription: a conversation's events over SSE (GraphQL over SSE, yoga's built-in), resumable by event id. */
import { isEventId } from '../../lib/conversation-store';
import { InvalidInputError } from '../../lib/errors';
import type { GraphqlBuilder } from './builder';
import { conversationIdDescription, conversationNamed } from './conversation-names';
import { conversationEventStream } from './event-stream';
import type { EventTypes } from './event-types';

export function addSubscriptions(builder: GraphqlBuilder, { ConversationEvent }: EventTypes) {
  builder.subscriptionType({
    fields: (t) => ({
      conversationEvents: t.field({
        type: ConversationEvent,
        description: 'Tokens as the reply is written, restarts, and finished replies; from now on, or right after the event `after`.',
        args: {
          conversationId: t.arg.id({ required: true, description: conversationIdDescription }),
          after: t.arg.string({ description: 'An event id (from an event, or sendMessage when queued): resume right after it.' }),
        },
        subscribe: (_root, { conversationId, after }, context) => {
          if (after != null && !isEventId(after)) throw new InvalidInputError('after', 'after must be an event id such as 1700000000000-0.');
          return conversationEventStream(context, conversationNamed(context, conversationId, 'operator'), after ?? undefined);
        },
        resolve: (event) => event,
      }),
    }),
  });
}
