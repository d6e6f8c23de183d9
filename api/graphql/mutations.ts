/**
 * Mutations: send a message (and wait, bounded, for its reply), reset a conversation's context, delete a
 * conversation everywhere. Each names the conversation as queries do; changing another user's needs admin.
 */
import type { Conversations, PostResult } from '../../lib/conversations';
import type { GraphqlBuilder } from './builder';
import { conversationIdDescription, conversationNamed } from './conversation-names';
import type { ConversationTypes } from './conversation-types';

type Sent = PostResult & { conversationId: string; messageId: string };
type Deleted = Awaited<ReturnType<Conversations['delete']>>;

export function addMutations(builder: GraphqlBuilder, { Reply }: Pick<ConversationTypes, 'Reply'>) {
  const SendMessageInput = builder.inputType('SendMessageInput', {
    fields: (t) => ({
      conversationId: t.id({ required: true, description: `${conversationIdDescription} A new id starts a conversation.` }),
      text: t.string({ required: true }),
      messageId: t.id({ required: true, description: 'Stable across retries: sending it again never makes a second reply (1-200 characters).' }),
      wait: t.boolean({ defaultValue: true, description: 'false: answer `queued` at once and read the reply from conversationEvents.' }),
    }),
  });
  const SendStatus = builder.enumType('SendStatus', {
    values: { answered: { description: 'The reply is in `reply`.' }, queued: { description: 'Subscribe to conversationEvents with `after` for the reply.' } },
  });
  const SendMessagePayload = builder.objectRef<Sent>('SendMessagePayload').implement({
    fields: (t) => ({
      conversationId: t.exposeID('conversationId', { description: 'The full conversation id.' }),
      messageId: t.exposeID('messageId'),
      status: t.field({ type: SendStatus, resolve: (sent) => sent.status }),
      reply: t.field({ type: Reply, nullable: true, resolve: (sent) => (sent.status === 'answered' ? sent.reply : null) }),
      after: t.string({
        nullable: true,
        description: 'When queued: the event id to pass as conversationEvents(after:) so that the reply cannot be missed.',
        resolve: (sent) => (sent.status === 'queued' ? sent.after : null),
      }),
    }),
  });
  const ResetConversationPayload = builder.objectRef<{ conversationId: string }>('ResetConversationPayload').implement({
    description: 'The reset is queued: it applies after the messages sent before it; the history stays archived.',
    fields: (t) => ({ conversationId: t.exposeID('conversationId') }),
  });
  const DeletedCounts = builder.objectRef<Deleted>('DeletedCounts').implement({
    fields: (t) => ({
      runs: t.exposeInt('runs', { description: 'Workflow runs whose histories Temporal deletes (in the background).' }),
      transcriptSegments: t.exposeInt('transcriptSegments', { description: 'Archived transcript segments deleted.' }),
      texts: t.exposeInt('texts', { description: 'Stored large texts deleted.' }),
    }),
  });
  const DeleteConversationPayload = builder.objectRef<{ conversationId: string; deleted: Deleted }>('DeleteConversationPayload').implement({
    fields: (t) => ({ conversationId: t.exposeID('conversationId'), deleted: t.expose('deleted', { type: DeletedCounts }) }),
  });

  builder.mutationType({
    fields: (t) => ({
      sendMessage: t.field({
        type: SendMessagePayload,
        nullable: true,
        description: 'Send a message and wait (bounded) for its reply. Over a limit: RATE_LIMITED or QUEUE_FULL, with retryAfter seconds.',
        args: { input: t.arg({ type: SendMessageInput, required: true }) },
        resolve: async (_root, { input }, context) => {
          const { conversationId, text, messageId, wait } = input;
          const conversation = conversationNamed(context, conversationId, 'admin');
          const sent = await context.conversations.post(context.caller, conversation, { text, messageId }, { wait: wait ?? true });
          return { ...sent, conversationId: conversation.id, messageId };
        },
      }),
      resetConversation: t.field({
        type: ResetConversationPayload,
        nullable: true,
        description: 'Start a fresh context; the history stays archived.',
        args: { id: t.arg.id({ required: true, description: conversationIdDescription }) },
        resolve: async (_root, { id }, context) => {
          const conversation = conversationNamed(context, id, 'admin');
          await context.conversations.reset(context.caller, conversation);
          return { conversationId: conversation.id };
        },
      }),
      deleteConversation: t.field({
        type: DeleteConversationPayload,
        nullable: true,
        description: 'Delete the conversation everywhere: its run, its histories in Temporal, Redis and the archive (admin).',
        args: { id: t.arg.id({ required: true, description: conversationIdDescription }) },
        resolve: async (_root, { id }, context) => {
          const conversation = conversationNamed(context, id, 'admin');
          return { conversationId: conversation.id, deleted: await context.conversations.delete(context.caller, conversation) };
        },
      }),
    }),
  });
}
