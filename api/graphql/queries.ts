/** Queries: the caller, their conversations, one conversation's view and its full history page by page. */
import { InvalidInputError } from '../../lib/errors';
import { historyQuery } from '../schemas';
import type { GraphqlBuilder } from './builder';
import { conversationIdDescription, conversationNamed } from './conversation-names';
import type { ConversationTypes } from './conversation-types';

export function addQueries(builder: GraphqlBuilder, types: ConversationTypes) {
  builder.queryType({
    fields: (t) => ({
      me: t.field({ type: types.Me, resolve: (_root, _args, { caller }) => caller.principal }),
      conversations: t.field({
        type: [types.ConversationSummary],
        description: "Your API and web conversations, newest first (at most 100). Operators name another user's with `user`.",
        args: { user: t.arg.string({ description: "Another user's id (the token's sub); operators only." }) },
        resolve: (_root, { user }, { caller, conversations }) => conversations.list(caller, user ?? undefined),
      }),
      conversation: t.field({
        type: types.Conversation,
        nullable: true,
        description: 'What the conversation knows now.',
        args: { id: t.arg.id({ required: true, description: conversationIdDescription }) },
        resolve: (_root, { id }, context) => context.conversations.view(conversationNamed(context, id, 'operator')),
      }),
      messages: t.field({
        type: types.MessagePage,
        nullable: true,
        description: 'Full history (live and archived), oldest first, `limit` turns after turn `after`.',
        args: {
          conversationId: t.arg.id({ required: true, description: conversationIdDescription }),
          after: t.arg.int({ description: 'Turns after this turn number (default 0: from the start).' }),
          limit: t.arg.int({ description: 'Turns per page (default 50, at most 200).' }),
        },
        resolve: async (_root, { conversationId, after, limit }, context) => {
          const page = historyQuery.safeParse({ after: after ?? undefined, limit: limit ?? undefined });
          if (!page.success) {
            const [issue] = page.error.issues;
            const field = String(issue?.path[0]);
            throw new InvalidInputError(field, `${field}: ${issue?.message}`);
          }
          const conversation = conversationNamed(context, conversationId, 'operator');
          return { conversationId: conversation.id, ...(await context.conversations.history(conversation, page.data)) };
        },
      }),
    }),
  });
}
