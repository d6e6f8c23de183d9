/**
 * What a conversation shows: its history from the API, then what this tab saw live and the history does not hold
 * yet (messages in flight, replies streaming). Both name a message by its id and a reply by its replyId, so nothing
 * shows twice when the history catches up.
 */
import type { HistoryItem } from '../api/types';
import type { LiveConversation, LiveMessage, LiveReply } from '../live/live-slice';

export interface ShownMessage {
  key: string;
  role: 'user' | 'assistant';
  text: string;
  at?: string;
  /** streaming: a reply still arriving; sending / rejected: a message of this tab not taken (yet). */
  state: 'final' | 'streaming' | 'sending' | 'rejected';
  /** Why a message was rejected. */
  problem?: string;
  /** The live message's id (to send it again). */
  messageId?: string;
  model?: string;
  /** This tab joined while the reply streamed: its beginning is missing until the final text comes. */
  joinedMidway?: boolean;
}

const fromHistory = (item: HistoryItem): ShownMessage => ({
  key: `${item.role}:${item.id}`,
  role: item.role,
  text: item.text,
  at: item.at,
  state: 'final',
  ...(item.model ? { model: item.model } : {}),
});

const fromMessage = (message: LiveMessage): ShownMessage => ({
  key: `user:${message.messageId}`,
  role: 'user',
  text: message.text,
  at: message.at,
  messageId: message.messageId,
  state: message.state === 'queued' ? 'final' : message.state,
  ...(message.problem === undefined ? {} : { problem: message.problem }),
});

function fromReply(reply: LiveReply): ShownMessage {
  const key = `assistant:${reply.replyId}`;
  if (reply.final) {
    const { text, createdAt, model } = reply.final;
    return { key, role: 'assistant', text, at: createdAt, state: 'final', ...(model ? { model } : {}) };
  }
  const joinedMidway = reply.parts.length > 0 && reply.parts[0] === undefined;
  return { key, role: 'assistant', text: reply.parts.join(''), state: 'streaming', joinedMidway };
}

export function shownMessages(history: HistoryItem[] | undefined, live: LiveConversation | undefined): ShownMessage[] {
  const shown = (history ?? []).map(fromHistory);
  const known = new Set(shown.map((message) => message.key));
  for (const entry of live?.timeline ?? []) {
    const message = entry.kind === 'message' ? live?.messages[entry.id] : undefined;
    const reply = entry.kind === 'reply' ? live?.replies[entry.id] : undefined;
    const item = message ? fromMessage(message) : reply ? fromReply(reply) : undefined;
    if (item && !known.has(item.key)) shown.push(item);
  }
  return shown;
}
