/**
 * Events on a conversation's Redis stream: what HTTP/web clients read (SSE, resumable by event id).
 * Writers: model activities (token, restart), delivery activities (reply, error).
 */
import type { Reply } from '../workflows/messages';

export type ConversationEvent =
  /** A piece of reply text as the model streams it; `index` counts from 0 within one attempt. */
  | { type: 'token'; replyId: string; attempt: number; index: number; text: string }
  /** A retried model attempt starts: discard partial text received for `replyId` from earlier attempts. */
  | { type: 'restart'; replyId: string; attempt: number }
  /** The final reply (appears once per `replyId`). */
  | { type: 'reply'; reply: Reply };

/** An event as stored: `id` is the Redis stream entry id (use it as SSE `Last-Event-ID`). */
export type StoredEvent = { id: string } & ConversationEvent;
