/**
 * The web channel's Socket.IO protocol (DESIGN §6 "Web"), on the API's server at Socket.IO's default path
 * `/socket.io/`. The handshake carries `auth: { token: '<bearer JWT>' }`; a refused one ends in `connect_error`
 * whose `data` is a problem+json body (401).
 *
 * Client → server, each with an ack:
 * - `message` `{conversationId?, text, messageId}` → `{conversationId, messageId, status}`: `queued` (accepted; the
 *   socket now follows the conversation from before this message, so its tokens and reply arrive), `answered` (this
 *   messageId was answered before: the ack carries that reply, nothing is sent again) or `rejected` (with `problem`:
 *   a limit, a text too long, a malformed payload; nothing was taken: send it again, with the same messageId).
 *   The conversationId is a client id, always the caller's own web conversation; without one the server starts a
 *   new conversation and names it in the ack.
 * - `subscribe` `{conversationId, after?}` → `{conversationId, status: 'subscribed' | 'rejected', problem?}`: follow a
 *   conversation's events after the event id `after` (exclusive; default: from now on). Subscribing to a
 *   conversation the connection already follows changes nothing: it has missed nothing since.
 * - `unsubscribe` `{conversationId}` → `{conversationId, status: 'unsubscribed'}`.
 *
 * Server → client: `token`, `restart`, `reply`, each the SSE event's data (GET /api/v1/conversations/:id/events)
 * plus the event's `id` (a Redis stream id; subscribe `after` it to resume) and `conversationId`; and `error`, a
 * problem+json body with the `conversationId` (and `messageId`) it concerns: following the conversation stopped or
 * could not start (its status says why: 429 for the user's event streams), or a request sent without an ack was
 * refused.
 *
 * Conversation ids on the wire: the client id `x` for the caller's own web conversation `web:<user>:x` (DESIGN §3;
 * acks and events name it so), the full id for any other a client may follow (its own `api:<user>:demo`, or any
 * user's for an operator).
 *
 * Resuming: a connection that comes back within two minutes is recovered (Socket.IO connection-state recovery): the
 * events it missed are replayed and it follows what it followed. Otherwise the client subscribes again `after` the
 * last event id it has of each conversation.
 */
import type { ConversationEvent } from '../../lib/conversation-events';
import type { Principal } from '../../lib/auth';
import type { Reply } from '../../workflows/messages';

/** RFC 9457 problem details, as HTTP errors have them; `retryAfter` (seconds) stands for the Retry-After header. */
export interface Problem {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  retryAfter?: number;
  /** 422: one entry per bad field. */
  errors?: { field: string; message: string }[];
}

export interface MessageRequest {
  conversationId?: string;
  text: string;
  messageId: string;
}

export type MessageAck =
  | { conversationId: string; messageId: string; status: 'queued' }
  | { conversationId: string; messageId: string; status: 'answered'; reply: Reply }
  | { conversationId?: string; messageId?: string; status: 'rejected'; problem: Problem };

export interface SubscribeRequest {
  conversationId: string;
  after?: string;
}

export type SubscribeAck =
  | { conversationId: string; status: 'subscribed' | 'unsubscribed' }
  | { conversationId?: string; status: 'rejected'; problem: Problem };

/** An event as a socket receives it. */
export type SocketEvent<T extends ConversationEvent['type']> = Extract<ConversationEvent, { type: T }> & { id: string; conversationId: string };

export interface ClientToServerEvents {
  message(request: MessageRequest, ack: (ack: MessageAck) => void): void;
  subscribe(request: SubscribeRequest, ack: (ack: SubscribeAck) => void): void;
  unsubscribe(request: { conversationId: string }, ack: (ack: SubscribeAck) => void): void;
}

export interface ServerToClientEvents {
  token(event: SocketEvent<'token'>): void;
  restart(event: SocketEvent<'restart'>): void;
  reply(event: SocketEvent<'reply'>): void;
  error(problem: Problem & { conversationId?: string; messageId?: string }): void;
}

/** What a socket carries; kept across a recovered reconnection (in Redis, with the adapter). */
export interface SocketData {
  principal: Principal;
  /** The conversations it follows (full ids) → the id of the last event it was sent (null: none yet). */
  follows: Record<string, string | null>;
}
