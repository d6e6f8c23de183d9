/**
 * What the accounting concludes from a drill log: the numbers an operator reads and the release gate checks.
 * Times are epoch ms unless a field says otherwise.
 */
import type { Channel, FaultRecord } from './drill-log';

/** Nearest-rank percentiles of turn latency in ms; null when no message was delivered. */
export interface LatencyStats {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Enough to find a message again: the conversation to open and the message within it. */
export interface MessageRef {
  conversationId: string;
  messageId: string;
  index: number;
}

/** The verdict for one channel. */
export interface ChannelReport {
  channel: Channel;
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Delivered messages whose first reply was an apology (every model provider failed): delivered, but worth a look. */
  apologies: number;
  latency: LatencyStats;
  /** Delivered messages per second of drill time. */
  throughput: number;
  /** Replies that answer no message this drill sent in their conversation (a reply the user cannot place). */
  unattributed: number;
  /** Only on the telegram channel. */
  telegram?: TelegramFigures;
  /** The offending messages, at most {@link offenderCap} of each kind, in send order. */
  offenders: { lost: MessageRef[]; duplicated: MessageRef[]; outOfOrder: MessageRef[] };
}

/** Telegram's own figures, to set the chats' duplicates against. */
export interface TelegramFigures {
  /** The engine's `tg:uncertain-sends` counter at the end of the drill (null: unreadable): the documented window. */
  uncertainSends: number | null;
  /** Bot messages still showing an unfinished preview (ending in " …") when the drill ended. */
  leftoverPreviews: number;
  /**
   * True when the chats' duplicates are all the documented window's: they hold no more extra bot messages than the
   * engine counted uncertain sends (each resends a part once). Then they are reported but do not fail the drill.
   */
  duplicatesInSendWindow: boolean;
}

/** One injected fault and how the system came back from it. */
export interface FaultReport extends FaultRecord {
  /** ms from `endedAt` until the messages waiting then were all answered (see accounting.ts); null if never. */
  recoveryMs: number | null;
  /** Messages sent at or before `startedAt` and not yet answered then. */
  inFlightAtStart: number;
}

/** One dot of the latency-over-time chart. */
export interface LatencyPoint {
  channel: Channel;
  conversationId: string;
  messageId: string;
  /** When the message was sent, in seconds since the drill started. */
  t: number;
  latencyMs: number;
}

/** The whole verdict; `ok` is what the exit status follows. */
export interface DrillReport {
  /**
   * Something was sent, and lost + duplicated + outOfOrder === 0 over every channel; Telegram's duplicates aside
   * when they are all within the documented send window ({@link TelegramFigures.duplicatesInSendWindow}).
   */
  ok: boolean;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  /** Messages whose replies the client deliberately ignored (they count as lost). */
  ignoredMessages: number;
  channels: ChannelReport[];
  faults: FaultReport[];
  latencySeries: LatencyPoint[];
}

/** How many offending ids each list keeps: enough to look some up, small enough to read. */
export const offenderCap = 50;
