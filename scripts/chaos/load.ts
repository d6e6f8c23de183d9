/**
 * The load generator: simulated users, each owning one conversation, sending messages one after another over
 * the HTTP API the way a careful client does (a stable messageId per message, retried until a reply comes back),
 * plus one SSE reader per conversation. Everything observed goes into the drill log; nothing here asks the
 * engine what it thinks happened.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sseEvents } from '../sse';
import type { ObservedReply, SentMessage } from './drill-log';
import { isLargeMessage, largeMessageChars, padWithCjk, plainText } from './message-text';

export interface LoadOptions {
  api: string;
  /** `Bearer <token>` of the drill's user (the stack's development token). */
  authorization: string;
  runId: string;
  conversations: number;
  messages: number;
  thinkMs: number;
  messageChars: number;
  /** Share of messages padded with CJK text to near the API's size limit (0..1). */
  largeShare: number;
  replyTimeoutMs: number;
  dropEvery: number;
  /** Aborting it ends the users' loops and the readers at once (Ctrl-C). */
  signal: AbortSignal;
}

export interface LoadRecord {
  messages: SentMessage[];
  replies: ObservedReply[];
  ignoredMessageIds: string[];
}

interface ReplyBody {
  replyId: string;
  inReplyTo: string[];
  text: string;
  kind?: 'answer' | 'apology';
}

/** Runs every user to the end; SSE readers keep running until `drain` resolves, then stop. */
export async function runLoad(options: LoadOptions, record: LoadRecord, drain: (pending: () => number) => Promise<void>): Promise<void> {
  const stopReaders = new AbortController();
  options.signal.addEventListener('abort', () => stopReaders.abort(), { once: true });
  const readers: Promise<void>[] = [];
  let sent = 0;
  const ignored = new Set<string>();
  const keep = (reply: ReplyBody) => !reply.inReplyTo.some((id) => ignored.has(id));

  // Users start and pause at random within ±50 % of the think time, so the load is spread out, not in waves.
  const think = () => sleep(options.thinkMs * (0.5 + Math.random()), undefined, { signal: options.signal }).catch(() => undefined);
  const user = async (n: number) => {
    const conversationId = `${options.runId}-c${n}`;
    await think();
    for (let index = 0; index < options.messages && !options.signal.aborted; index++) {
      const messageId = `${conversationId}-m${index}`;
      if (options.dropEvery > 0 && ++sent % options.dropEvery === 0) {
        ignored.add(messageId);
        record.ignoredMessageIds.push(messageId);
      }
      const large = isLargeMessage(n * options.messages + index, options.largeShare);
      const message: SentMessage = { channel: 'api', conversationId, messageId, index, sentAt: Date.now(), ...(large ? { large } : {}) };
      record.messages.push(message);
      const plain = plainText(`message ${index} of ${conversationId}: `, options.messageChars);
      const reply = await send(options, message, large ? padWithCjk(plain, largeMessageChars.api) : plain);
      if (reply && keep(reply)) record.replies.push(observed(conversationId, reply, 'http'));
      if (index === 0) readers.push(readEvents(options, conversationId, stopReaders.signal, (reply, eventId) => {
        if (keep(reply)) record.replies.push(observed(conversationId, reply, 'sse', eventId));
      }));
      await think();
    }
  };

  await Promise.all(Array.from({ length: options.conversations }, (_, n) => user(n)));
  const answered = () => new Set(record.replies.filter((r) => r.source === 'sse').flatMap((r) => r.inReplyTo));
  // The record is shared with the Telegram users, who count their own waiting messages.
  await drain(() => record.messages.filter((m) => m.channel === 'api' && !ignored.has(m.messageId) && !answered().has(m.messageId)).length);
  stopReaders.abort();
  await Promise.all(readers);
}

/** Answers that no retry changes: the message itself is wrong (too large, malformed), so the client gives up. */
const permanentStatuses = new Set([400, 413, 415, 422]);

/**
 * POSTs one message until the API answers it with a reply (same messageId every time), or gives up: at the reply
 * timeout, or at once when the API refuses the message for good (recorded as `refusedStatus`; it counts as lost).
 */
async function send(options: LoadOptions, message: SentMessage, body: string): Promise<ReplyBody | undefined> {
  const deadline = message.sentAt + options.replyTimeoutMs;
  let backoffMs = 250;
  while (Date.now() < deadline && !options.signal.aborted) {
    let waitMs: number | undefined;
    try {
      const response = await fetch(`${options.api}/api/v1/chat`, {
        method: 'POST',
        headers: { authorization: options.authorization, 'content-type': 'application/json', 'idempotency-key': message.messageId },
        body: JSON.stringify({ conversationId: message.conversationId, text: body }),
        signal: AbortSignal.timeout(60_000),
      });
      if (response.status === 200 || response.status === 202) message.acceptedAt ??= Date.now();
      if (response.status === 200) return ((await response.json()) as { reply: ReplyBody }).reply;
      await response.body?.cancel();
      // 202: accepted, the reply is late; asking again with the same id waits for it (never a second turn).
      if (response.status === 202) continue;
      if (permanentStatuses.has(response.status)) {
        message.refusedStatus = response.status;
        return undefined;
      }
      // 429: too many messages wait in this conversation; the same id again after Retry-After. Only here: the
      // Retry-After of a 503 is a fixed guess, and backing off from 250 ms shows how soon a fault is over.
      if (response.status === 429) {
        message.throttled = (message.throttled ?? 0) + 1;
        waitMs = retryAfterMs(response.headers.get('retry-after'));
      }
    } catch {
      // Connection refused or reset while a fault is on: the client retries like any other.
    }
    await sleep(Math.min(waitMs ?? backoffMs, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal })
      .catch(() => undefined);
    if (waitMs === undefined) backoffMs = Math.min(backoffMs * 2, 4000);
  }
  return undefined;
}

/** Retry-After in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Reads the conversation's SSE stream from its start, reconnecting after errors with Last-Event-ID. */
async function readEvents(
  { api, authorization }: Pick<LoadOptions, 'api' | 'authorization'>,
  conversationId: string,
  signal: AbortSignal,
  onReply: (reply: ReplyBody, eventId: string) => void,
): Promise<void> {
  let lastEventId = '0-0';
  while (!signal.aborted) {
    try {
      const response = await fetch(`${api}/api/v1/conversations/${conversationId}/events`, {
        headers: { authorization, 'last-event-id': lastEventId },
        signal,
      });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      for await (const event of sseEvents(response.body)) {
        if (event.id) lastEventId = event.id;
        if (event.event === 'reply' && event.id) onReply((JSON.parse(event.data) as { reply: ReplyBody }).reply, event.id);
      }
    } catch {
      if (signal.aborted) return;
    }
    await sleep(500, undefined, { signal }).catch(() => undefined);
  }
}

function observed(conversationId: string, reply: ReplyBody, source: 'http' | 'sse', eventId?: string): ObservedReply {
  return {
    channel: 'api',
    conversationId,
    replyId: reply.replyId,
    inReplyTo: reply.inReplyTo,
    text: reply.text,
    source,
    ...(eventId ? { eventId } : {}),
    ...(reply.kind ? { kind: reply.kind } : {}),
    at: Date.now(),
  };
}
