/**
 * The raw record of a chaos drill: what the simulated clients sent, what they saw come back and which faults were
 * injected when. It holds observations only, never conclusions, so the accounting can be re-run on a saved
 * `report.json` and stays independent of the engine's own bookkeeping.
 */

/** Where the simulated users talk to the assistant: the HTTP API, or a private Telegram chat with the bot. */
export type Channel = 'api' | 'telegram';

/** One user message as the client sent it. */
export interface SentMessage {
  channel: Channel;
  conversationId: string;
  messageId: string;
  /** 0-based position in its conversation */
  index: number;
  sentAt: number;
  /** epoch ms of the first HTTP answer that accepted it (200/202) */
  acceptedAt?: number;
  /** Padded with CJK text to near the channel's size limit (`--large-share`). */
  large?: true;
  /** How many times the API answered 429 (too many messages waiting) before taking it. */
  throttled?: number;
  /** The HTTP status of a permanent refusal (400, 413, 415, 422): the client gave up, so the message is lost. */
  refusedStatus?: number;
}

/**
 * A reply as a client saw it. Source 'http' = the 200 body of POST /chat; 'sse' = a `reply` event on the
 * conversation's SSE stream (eventId = SSE id, a Redis stream id such as `1700000000000-0`); 'telegram' = a bot
 * message in the user's chat, read from the Telegram server (replyId = `<chat id>:<message_id>`, `position` = its
 * message_id, `inReplyTo` = the drill's message ids named in its text).
 */
export interface ObservedReply {
  channel: Channel;
  conversationId: string;
  replyId: string;
  inReplyTo: string[];
  text: string;
  source: 'http' | 'sse' | 'telegram';
  eventId?: string;
  /** Where the reply stands in its chat when the channel numbers messages (Telegram's message_id): its order. */
  position?: number;
  /**
   * A Telegram preview still unfinished when the drill ended (its text ends in the preview marker " …"): the user
   * sees it, so it counts towards duplicates, but it never delivers a message.
   */
  partial?: boolean;
  /** The reply's `kind` when the client saw it: an apology means every model provider failed for that turn. */
  kind?: 'answer' | 'apology';
  at: number;
}

export type FaultKind = 'worker-kill' | 'temporal-restart' | 'redis-restart' | 'archive-outage' | 'model-outage';

/** One injected fault. */
export interface FaultRecord {
  kind: FaultKind;
  detail: string;
  startedAt: number;
  /** when the injector undid the fault (restart done, outage over); = startedAt for a kill */
  endedAt: number;
}

/** Everything one drill observed, times in epoch ms. */
export interface DrillLog {
  startedAt: number;
  endedAt: number;
  options: Record<string, unknown>;
  messages: SentMessage[];
  replies: ObservedReply[];
  faults: FaultRecord[];
  /**
   * messageIds whose replies the client was told to ignore (the deliberate-breakage option). The accounting never
   * credits a reply to these, whether or not the client still recorded it, so the breakage always shows as loss.
   */
  ignoredMessageIds?: string[];
  /** Present when Telegram users took part. */
  telegram?: TelegramObservations;
}

/** What the drill read besides the chats, at the end of a drill with Telegram users. */
export interface TelegramObservations {
  /**
   * The engine's own count of Telegram sends repeated after an attempt that may have arrived
   * (`<prefix>tg:uncertain-sends`): the documented duplicate window, to match against duplicates seen in the chats.
   * Null when it could not be read.
   */
  uncertainSends: number | null;
}
