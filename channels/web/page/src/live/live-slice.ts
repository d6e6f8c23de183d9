/**
 * The live side of conversations, fed by socket events: messages sent from this tab until the server has them,
 * replies as they stream (token by token, restarted when the model is retried) and once final. Events are applied
 * once each, in event-id order, so a resubscription that overlaps what arrived already changes nothing.
 */
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { signedOut } from '../session/session-slice';
import { compareEventIds, justBefore } from './event-ids';
import type { ConversationEvent, Reply } from './protocol';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting';

export interface LiveMessage {
  messageId: string;
  text: string;
  /** When it was sent (ISO time). */
  at: string;
  /** sending: not acknowledged yet (resent after a reconnect); queued: the server has it. */
  state: 'sending' | 'queued' | 'rejected';
  /** Why it was rejected. */
  problem?: string;
}

export interface LiveReply {
  replyId: string;
  attempt: number;
  /** The current attempt's tokens by index (holes until they arrive). */
  parts: string[];
  final?: Reply;
}

export type TimelineEntry = { kind: 'message' | 'reply'; id: string };

export interface LiveConversation {
  /** The newest event applied; older and repeated events are ignored. */
  lastEventId?: string;
  /** Where to (re)subscribe from: after it, nothing is missing of a reply that is still streaming. */
  resumeAfter?: string;
  /** The server sends this tab the conversation's events (from the subscription's ack until unfollowed or offline). */
  following?: boolean;
  /** Messages and replies in the order this tab saw them. */
  timeline: TimelineEntry[];
  messages: Record<string, LiveMessage>;
  replies: Record<string, LiveReply>;
}

export interface LiveState {
  connection: ConnectionState;
  /** By full conversation id (`web:<user>:<id>`). */
  conversations: Record<string, LiveConversation>;
}

const initialState: LiveState = { connection: 'connecting', conversations: {} };

const emptyConversation = (): LiveConversation => ({ timeline: [], messages: {}, replies: {} });

/** Whether the server has taken a message of this tab's for the conversation (so the conversation exists). */
export const hasStarted = (state: { live: LiveState }, conversationId: string) =>
  Object.values(state.live.conversations[conversationId]?.messages ?? {}).some((message) => message.state === 'queued');

/** True while a reply of the conversation has started streaming and is not final yet. */
export const isStreaming = (conversation: LiveConversation) => Object.values(conversation.replies).some((reply) => !reply.final);

function replyOf(conversation: LiveConversation, replyId: string): LiveReply {
  let reply = conversation.replies[replyId];
  if (!reply) {
    reply = { replyId, attempt: 0, parts: [] };
    conversation.replies[replyId] = reply;
    conversation.timeline.push({ kind: 'reply', id: replyId });
  }
  return reply;
}

function apply(conversation: LiveConversation, event: ConversationEvent): void {
  const reply = replyOf(conversation, event.type === 'reply' ? event.reply.replyId : event.replyId);
  if (reply.final) return;
  switch (event.type) {
    case 'token':
      if (event.attempt < reply.attempt) return;
      if (event.attempt > reply.attempt) Object.assign(reply, { attempt: event.attempt, parts: [] });
      reply.parts[event.index] = event.text;
      return;
    case 'restart':
      if (event.attempt >= reply.attempt) Object.assign(reply, { attempt: event.attempt, parts: [] });
      return;
    case 'reply':
      Object.assign(reply, { final: event.reply, parts: [] });
  }
}

export const liveSlice = createSlice({
  name: 'live',
  initialState,
  reducers: {
    connectionChanged(state, action: PayloadAction<ConnectionState>) {
      state.connection = action.payload;
      if (action.payload !== 'online') for (const conversation of Object.values(state.conversations)) delete conversation.following;
    },
    followingChanged(state, action: PayloadAction<{ conversationId: string; following: boolean }>) {
      const { conversationId, following } = action.payload;
      const conversation = (state.conversations[conversationId] ??= emptyConversation());
      if (following) conversation.following = true;
      else delete conversation.following;
    },
    messageSent(state, action: PayloadAction<{ conversationId: string; messageId: string; text: string; at: string }>) {
      const { conversationId, ...message } = action.payload;
      const conversation = (state.conversations[conversationId] ??= emptyConversation());
      conversation.messages[message.messageId] = { ...message, state: 'sending' };
      conversation.timeline.push({ kind: 'message', id: message.messageId });
    },
    messageAcknowledged(state, action: PayloadAction<{ conversationId: string; messageId: string; problem?: string }>) {
      const { conversationId, messageId, problem } = action.payload;
      const message = state.conversations[conversationId]?.messages[messageId];
      if (!message) return;
      message.state = problem === undefined ? 'queued' : 'rejected';
      if (problem !== undefined) message.problem = problem;
    },
    messageResent(state, action: PayloadAction<{ conversationId: string; messageId: string }>) {
      const message = state.conversations[action.payload.conversationId]?.messages[action.payload.messageId];
      if (!message) return;
      message.state = 'sending';
      delete message.problem;
    },
    eventReceived(state, action: PayloadAction<{ conversationId: string; event: ConversationEvent }>) {
      const { conversationId, event } = action.payload;
      const conversation = (state.conversations[conversationId] ??= emptyConversation());
      if (conversation.lastEventId !== undefined && compareEventIds(event.id, conversation.lastEventId) <= 0) return;
      const wasStreaming = isStreaming(conversation);
      apply(conversation, event);
      conversation.lastEventId = event.id;
      if (!isStreaming(conversation)) conversation.resumeAfter = event.id;
      else if (!wasStreaming) conversation.resumeAfter ??= justBefore(event.id);
    },
    /** A reply known without its event (the server's answer to a message it had answered before). */
    replyKnown(state, action: PayloadAction<{ conversationId: string; reply: Reply }>) {
      const { conversationId, reply } = action.payload;
      const conversation = (state.conversations[conversationId] ??= emptyConversation());
      Object.assign(replyOf(conversation, reply.replyId), { final: reply, parts: [] });
    },
    conversationForgotten(state, action: PayloadAction<string>) {
      delete state.conversations[action.payload];
    },
  },
  // Nothing of one user's conversations stays in memory for the next one to see.
  extraReducers: (builder) => builder.addCase(signedOut, () => initialState),
});

export const {
  connectionChanged,
  followingChanged,
  messageSent,
  messageAcknowledged,
  messageResent,
  eventReceived,
  replyKnown,
  conversationForgotten,
} = liveSlice.actions;
