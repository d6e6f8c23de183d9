/**
 * The GraphQL shapes of what the edge API returns: the caller, replies, turns, a conversation's view, its history
 * pages and the caller's conversation list. Field names follow the REST API's JSON, so both read alike.
 */
import { roles, type Principal } from '../../lib/auth';
import type * as edge from '../../lib/conversations';
import type * as messages from '../../workflows/messages';
import type { GraphqlBuilder } from './builder';

export type ConversationTypes = ReturnType<typeof conversationTypes>;

export function conversationTypes(builder: GraphqlBuilder) {
  const Role = builder.enumType('Role', { values: roles, description: 'Each role includes the ones before it: user, operator, admin.' });
  const Me = builder.objectRef<Principal>('Me').implement({
    description: 'The caller, as their token says.',
    fields: (t) => ({
      user: t.exposeString('user', { description: "The token's sub." }),
      role: t.expose('role', { type: Role }),
    }),
  });

  const TokenUsage = builder.objectRef<messages.TokenUsage>('TokenUsage').implement({
    fields: (t) => ({
      promptTokens: t.exposeInt('promptTokens'),
      completionTokens: t.exposeInt('completionTokens'),
      totalTokens: t.exposeInt('totalTokens'),
    }),
  });
  const ReplyKind = builder.enumType('ReplyKind', {
    values: ['answer', 'apology'] as const,
    description: 'apology: every provider failed for good, and the user got a short apology instead of silence.',
  });
  const Reply = builder.objectRef<messages.Reply>('Reply').implement({
    description: "The assistant's answer to one or more messages (quick messages are answered together).",
    fields: (t) => ({
      replyId: t.exposeID('replyId'),
      inReplyTo: t.exposeStringList('inReplyTo', { description: 'The messageIds it answers.' }),
      text: t.exposeString('text'),
      provider: t.exposeString('provider'),
      model: t.exposeString('model'),
      usage: t.expose('usage', { type: TokenUsage }),
      kind: t.expose('kind', { type: ReplyKind }),
      createdAt: t.exposeString('createdAt', { description: 'ISO-8601.' }),
    }),
  });

  const UserMessage = builder.objectRef<messages.InboundMessage>('UserMessage').implement({
    fields: (t) => ({
      messageId: t.exposeID('messageId'),
      text: t.exposeString('text'),
      receivedAt: t.exposeString('receivedAt', { description: 'ISO-8601.' }),
    }),
  });
  const Turn = builder.objectRef<messages.Turn>('Turn').implement({
    description: 'One exchange: the messages a turn answered and its reply; numbered from 1 over the conversation\'s life.',
    fields: (t) => ({
      number: t.exposeInt('number'),
      messages: t.expose('messages', { type: [UserMessage] }),
      reply: t.expose('reply', { type: Reply }),
    }),
  });

  const ConversationStatus = builder.enumType('ConversationStatus', { values: ['waiting', 'thinking', 'closing', 'closed'] as const });
  const Conversation = builder.objectRef<edge.ConversationView>('Conversation').implement({
    description: 'What a conversation knows now: its live state while it runs, its last context once it closed.',
    fields: (t) => ({
      id: t.exposeID('conversationId', { description: 'The full conversation id, e.g. api:alice:demo.' }),
      status: t.expose('status', { type: ConversationStatus }),
      turnCount: t.exposeInt('turnCount'),
      pendingCount: t.exposeInt('pendingCount', { description: 'Messages waiting for a reply.' }),
      summary: t.exposeString('summary', { description: 'Older turns, folded into a summary.' }),
      recentTurns: t.expose('recentTurns', { type: [Turn], description: 'The context window, oldest first.' }),
      lastModel: t.exposeString('lastModel', { nullable: true, description: 'provider/model of the last answer.' }),
    }),
  });

  const ConversationSummary = builder.objectRef<edge.ConversationSummary>('ConversationSummary').implement({
    fields: (t) => ({
      id: t.exposeID('id', { description: 'The full conversation id, e.g. web:alice:4f1c…' }),
      channel: t.exposeString('channel', { description: 'api or web.' }),
      clientId: t.exposeString('clientId'),
      title: t.exposeString('title', { description: 'The first message, shortened.' }),
      status: t.exposeString('status', { description: 'waiting, thinking or closing while its run is open; closed after an idle close.' }),
      turnCount: t.exposeInt('turnCount'),
      lastActiveAt: t.exposeString('lastActiveAt', { description: 'ISO-8601.' }),
    }),
  });

  const MessageRole = builder.enumType('MessageRole', { values: ['user', 'assistant'] as const });
  const HistoryItem = builder.objectRef<edge.HistoryItem>('HistoryItem').implement({
    description: "One message or reply of a conversation's history.",
    fields: (t) => ({
      turn: t.exposeInt('turn'),
      role: t.expose('role', { type: MessageRole }),
      id: t.exposeID('id', { description: 'The messageId, or the replyId.' }),
      text: t.exposeString('text'),
      at: t.exposeString('at', { description: 'ISO-8601.' }),
      inReplyTo: t.exposeStringList('inReplyTo', { nullable: true, description: 'Replies: the messageIds they answer.' }),
      provider: t.exposeString('provider', { nullable: true }),
      model: t.exposeString('model', { nullable: true }),
    }),
  });
  const MessagePage = builder.objectRef<edge.HistoryPage & { conversationId: string }>('MessagePage').implement({
    fields: (t) => ({
      conversationId: t.exposeID('conversationId'),
      messages: t.expose('messages', { type: [HistoryItem] }),
      nextAfter: t.exposeInt('nextAfter', { nullable: true, description: 'Pass as `after` for the next page; null on the last one.' }),
    }),
  });

  return { Me, Reply, Conversation, ConversationSummary, MessagePage };
}
