/**
 * The raw record of a chaos drill: what the simulated clients sent, what they saw come back and which faults were
 * injected when. It holds observations only, never conclusions, so the accounting can be re-run on a saved
 * `report.json` and stays independent of the engine's own bookkeeping.
 */

/** Where the simulated users talk to the assistant (Telegram joins when that channel exists). */
export type Channel = 'api';

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
}

/**
 * A reply as a client saw it. Source 'http' = the 200 body of POST /chat; 'sse' = a `reply` event on the
 * conversation's SSE stream (eventId = SSE id, a Redis stream id such as `1700000000000-0`).
 */
export interface ObservedReply {
  channel: Channel;
  conversationId: string;
  replyId: string;
  inReplyTo: string[];
  text: string;
  source: 'http' | 'sse';
  eventId?: string;
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
}
