/**
 * The Socket.IO protocol as the page speaks it (DESIGN §6 "Web"; the server's side is channels/web/protocol.ts, whose
 * types the page cannot import: they bring the server's modules with them). On the wire, the user's own web
 * conversation `web:<user>:x` is named `x`; any other by its full id (`api:<user>:demo`). Event ids are Redis stream
 * ids, increasing within a conversation.
 */
import type { Problem } from '../api/problem';

/** Client → server `message`; `messageId` makes a resend (after a reconnect) idempotent. */
export interface OutgoingMessage {
  conversationId: string;
  text: string;
  messageId: string;
}

/**
 * The `message` ack: `queued` (the connection now follows the conversation, so its reply streams in), `answered`
 * (this message id was answered before: here is that reply) or `rejected` (nothing was taken).
 */
export type MessageAck =
  | { conversationId: string; messageId: string; status: 'queued' }
  | { conversationId: string; messageId: string; status: 'answered'; reply: Reply }
  | { conversationId?: string; messageId?: string; status: 'rejected'; problem: Problem };

/** Client → server `subscribe`: events of the conversation after `after` (exclusive), or from now on. */
export interface SubscribeRequest {
  conversationId: string;
  after?: string;
}

export type SubscribeAck =
  | { conversationId: string; status: 'subscribed' | 'unsubscribed' }
  | { conversationId?: string; status: 'rejected'; problem: Problem };

/** A final reply, as the `reply` event carries it. */
export interface Reply {
  replyId: string;
  inReplyTo: string[];
  text: string;
  provider?: string;
  model?: string;
  createdAt: string;
}

interface EventBase {
  conversationId: string;
  /** The event id: resume after it. */
  id: string;
}

/** A piece of reply text; `index` counts from 0 within one attempt. */
export interface TokenEvent extends EventBase {
  replyId: string;
  attempt: number;
  index: number;
  text: string;
}

/** A retried model attempt starts: drop what came for `replyId` before. */
export interface RestartEvent extends EventBase {
  replyId: string;
  attempt: number;
}

/** The authoritative text of a reply, once per reply. */
export interface ReplyEvent extends EventBase {
  reply: Reply;
}

export type ConversationEvent =
  | ({ type: 'token' } & TokenEvent)
  | ({ type: 'restart' } & RestartEvent)
  | ({ type: 'reply' } & ReplyEvent);

export interface ServerToClientEvents {
  token(event: TokenEvent): void;
  restart(event: RestartEvent): void;
  reply(event: ReplyEvent): void;
  /** A problem not answered in an ack, e.g. a followed conversation's events stopped (it was deleted). */
  error(problem: Problem & { conversationId?: string }): void;
}

export interface ClientToServerEvents {
  message(message: OutgoingMessage, ack: (ack: MessageAck) => void): void;
  subscribe(request: SubscribeRequest, ack: (ack: SubscribeAck) => void): void;
  unsubscribe(request: { conversationId: string }): void;
}
