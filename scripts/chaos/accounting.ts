/**
 * The drill's accounting: turns what the clients observed into lost / duplicated / out-of-order counts, latency
 * and recovery times. It reads only the {@link DrillLog}, never the engine's state, so a bug in the engine's own
 * bookkeeping cannot hide a bug in delivery (the log's one engine figure, Telegram's uncertain sends, can only excuse
 * duplicates).
 */
import type { Channel, DrillLog, FaultRecord, ObservedReply, SentMessage } from './drill-log';
import { offenderCap } from './drill-report';
import type { ChannelReport, DrillReport, FaultReport, LatencyPoint, MessageRef, TelegramFigures } from './drill-report';
import { latencyStats } from './latency-stats';

/** One reply as the user experienced it: every observation of the same replyId in a conversation merged. */
interface Reply {
  replyId: string;
  channel: Channel;
  conversationId: string;
  firstAt: number;
  /** Seen complete at least once: only such a reply delivers (a Telegram preview left unfinished does not). */
  final: boolean;
  /** Seen as an unfinished Telegram preview when the drill ended. */
  leftover: boolean;
  position?: number;
  /** Arrival order in its conversation: see {@link arrivalKey}. */
  order: [number, number];
  sseEventIds: Set<string>;
  kind: ObservedReply['kind'];
  /** The sent messages it answers (unknown, foreign-conversation and ignored ids left out). */
  answers: SentMessage[];
  /** Some of its ids were deliberately ignored ones (so it is not unattributed). */
  answersIgnored: boolean;
}

/** Per message: what answered it and what went wrong. */
interface Outcome {
  message: SentMessage;
  replies: Reply[];
  firstReply?: Reply;
  duplicated: boolean;
  outOfOrder: boolean;
}

/**
 * Accounts for a drill. Pure and deterministic: the same log always gives the same report.
 *
 * Rules:
 * - A message is **delivered** when at least one reply (HTTP body or SSE `reply` event) in the same conversation
 *   lists its messageId in `inReplyTo`. Every reply in the log counts: the log ends when the drill ends.
 * - **Lost**: sent, and no reply by the end of the drill. Messages listed in `ignoredMessageIds` (the
 *   deliberate-breakage option) are never credited with a reply, so they always count as lost.
 * - **Duplicated**: two or more distinct replyIds answer the same message, or one replyId arrives on the SSE stream
 *   twice under different event ids (a doubled stream entry). The same replyId seen via HTTP and via SSE, or the
 *   same SSE event re-read after a reconnect, is one delivery. On Telegram a replyId is one bot message; a
 *   `partial` one (a preview still unfinished at the end) never delivers but does count towards duplicates: the
 *   user sees two answers.
 * - **Unattributed**: replies that answer no message the drill sent in their conversation (ignored ones aside).
 * - **Out of order**: within a conversation, replies ordered by their `position` (Telegram's message_id), else by
 *   their first SSE event id, else by when they were first observed, must answer messages whose send indexes
 *   never go backwards: a reply
 *   answering index 3 must not come after one answering index 5. A coalesced reply (several ids in `inReplyTo`)
 *   is in order as long as none of its messages comes before one already answered. The messages answered behind
 *   a later one are the out-of-order ones; a message answered again further down is a duplicate, not reordered.
 * - **Latency** of a message: its first reply's `at` − `sentAt`; p50/p95/p99/max by nearest rank.
 *   **Throughput**: delivered messages / drill seconds.
 * - **Recovery** after a fault: ms from the fault's `endedAt` until every message waiting at that moment has its
 *   reply (the system caught up); with none waiting, the latency of the first message sent afterwards. Null when a
 *   waiting message is never answered, or nothing was sent afterwards. **In flight** at a fault: messages sent at or
 *   before its `startedAt` and not yet answered then.
 * - `ok` when something was sent and lost + duplicated + out of order is 0 on every channel. Telegram's duplicates
 *   do not count when the engine's uncertain sends cover every extra bot message: Telegram has no idempotent send,
 *   so a worker killed after Telegram took a part but before its id was recorded must send it again (the documented
 *   window, reported as such). This one figure comes from the engine, and it can only excuse duplicates, never hide
 *   a loss or a reordering.
 */
export function account(log: DrillLog): DrillReport {
  const messages = [...log.messages].sort(bySendOrder);
  const replies = mergeReplies(log, messages);
  const outcomes = judge(messages, replies.filter((r) => r.answers.length > 0));
  const durationMs = Math.max(0, log.endedAt - log.startedAt);
  const channels = [...new Set(messages.map((m) => m.channel))].sort().map((channel) => {
    const report = channelReport(channel, outcomes.filter((o) => o.message.channel === channel), durationMs);
    const own = replies.filter((r) => r.channel === channel);
    report.unattributed = own.filter((r) => r.final && r.answers.length === 0 && !r.answersIgnored).length;
    if (channel === 'telegram') {
      report.telegram = telegramFigures(log, own, outcomes.filter((o) => o.message.channel === channel));
    }
    return report;
  });
  const failing = (c: ChannelReport) => c.lost + c.outOfOrder + (c.telegram?.duplicatesInSendWindow ? 0 : c.duplicated);
  return {
    // A drill that sent nothing proved nothing: it must not pass a release gate.
    ok: channels.length > 0 && channels.every((c) => failing(c) === 0),
    startedAt: log.startedAt,
    endedAt: log.endedAt,
    durationMs,
    ignoredMessages: new Set(log.ignoredMessageIds ?? []).size,
    channels,
    faults: log.faults.map((fault) => faultReport(fault, outcomes)).sort((a, b) => a.startedAt - b.startedAt),
    latencySeries: latencySeries(outcomes, log.startedAt),
  };
}

/** The drill's one-line verdict, as the console and the HTML report print it. */
export function verdictOf(report: DrillReport): string {
  if (!report.ok) return 'FAIL: messages lost, doubled or reordered';
  const inWindow = report.channels.find((c) => c.telegram?.duplicatesInSendWindow);
  return inWindow
    ? `PASS: nothing lost or reordered; ${inWindow.duplicated} Telegram duplicated only within the documented send window`
    : 'PASS: nothing lost, doubled or reordered';
}

function mergeReplies(log: DrillLog, messages: readonly SentMessage[]): Reply[] {
  const ignored = new Set(log.ignoredMessageIds ?? []);
  const byId = new Map<string, SentMessage>();
  for (const m of messages) if (!byId.has(m.messageId)) byId.set(m.messageId, m);

  const merged = new Map<string, Reply>();
  for (const observed of log.replies) {
    // Keyed by conversation too: the same replyId in another conversation would be a different delivery.
    const key = JSON.stringify([observed.channel, observed.conversationId, observed.replyId]);
    const partial = observed.partial === true;
    const reply: Reply = merged.get(key) ?? { replyId: observed.replyId, channel: observed.channel,
      conversationId: observed.conversationId, firstAt: Number.POSITIVE_INFINITY, final: false, leftover: false,
      order: [0, 0], sseEventIds: new Set(), kind: undefined, answers: [], answersIgnored: false };
    merged.set(key, reply);
    // A reply's time is when it was first seen complete; a preview that never completed keeps its sighting time.
    if (!partial) reply.firstAt = reply.final ? Math.min(reply.firstAt, observed.at) : observed.at;
    else if (!reply.final) reply.firstAt = Math.min(reply.firstAt, observed.at);
    reply.final ||= !partial;
    reply.leftover ||= partial;
    reply.kind ??= observed.kind;
    reply.position ??= observed.position;
    if (observed.source === 'sse' && observed.eventId !== undefined) reply.sseEventIds.add(observed.eventId);
    for (const id of observed.inReplyTo) {
      const message = byId.get(id);
      if (ignored.has(id)) reply.answersIgnored = true;
      const credited = message !== undefined && !ignored.has(id) && message.channel === observed.channel
        && message.conversationId === observed.conversationId;
      if (credited && !reply.answers.includes(message)) reply.answers.push(message);
    }
  }
  const replies = [...merged.values()];
  for (const reply of replies) reply.order = arrivalKey(reply);
  return replies.sort((a, b) =>
    compareKeys(a.order, b.order) || a.firstAt - b.firstAt || compareText(a.replyId, b.replyId));
}

/**
 * Its place in the chat when the channel gives one; else the first SSE event id as [ms, seq]; else (never seen on
 * SSE) when it was first observed.
 */
function arrivalKey(reply: Reply): [number, number] {
  if (reply.position !== undefined) return [reply.position, 0];
  const keys = [...reply.sseEventIds].map(parseEventId).sort(compareKeys);
  return keys[0] ?? [reply.firstAt, Number.POSITIVE_INFINITY];
}

function judge(messages: readonly SentMessage[], replies: readonly Reply[]): Outcome[] {
  const outcomes = new Map<SentMessage, Outcome>(
    messages.map((message) => [message, { message, replies: [], duplicated: false, outOfOrder: false }]));
  const highestIndex = new Map<string, number>();
  // `replies` is in arrival order, so this walk sees each conversation's replies as its user did.
  for (const reply of replies) {
    const highest = highestIndex.get(reply.conversationId) ?? Number.NEGATIVE_INFINITY;
    for (const message of reply.answers) {
      const outcome = outcomes.get(message)!;
      outcome.replies.push(reply);
    }
    // An unfinished preview is seen (a duplicate when the message has another reply) but answers nothing.
    if (!reply.final) continue;
    for (const message of reply.answers) {
      const outcome = outcomes.get(message)!;
      if (!outcome.firstReply || reply.firstAt < outcome.firstReply.firstAt) outcome.firstReply = reply;
      // A message answered again (a duplicate, counted as such) is judged for order by its first answer only.
      const answeredAbove = outcome.replies.some((r) => r !== reply && r.final);
      if (message.index < highest && !answeredAbove) outcome.outOfOrder = true;
    }
    highestIndex.set(reply.conversationId, Math.max(highest, ...reply.answers.map((m) => m.index)));
  }
  for (const outcome of outcomes.values()) {
    outcome.duplicated = outcome.replies.length > 1 || outcome.replies.some((r) => r.sseEventIds.size > 1);
  }
  return [...outcomes.values()];
}

function channelReport(channel: Channel, outcomes: readonly Outcome[], durationMs: number): ChannelReport {
  const delivered = outcomes.filter((o) => o.firstReply);
  const lost = outcomes.filter((o) => !o.firstReply);
  const duplicated = outcomes.filter((o) => o.duplicated);
  const outOfOrder = outcomes.filter((o) => o.outOfOrder);
  return {
    channel,
    sent: outcomes.length,
    delivered: delivered.length,
    lost: lost.length,
    duplicated: duplicated.length,
    outOfOrder: outOfOrder.length,
    apologies: delivered.filter((o) => o.firstReply?.kind === 'apology').length,
    latency: latencyStats(delivered.map(latencyOf)),
    throughput: durationMs > 0 ? delivered.length / (durationMs / 1000) : 0,
    unattributed: 0,
    offenders: { lost: refs(lost), duplicated: refs(duplicated), outOfOrder: refs(outOfOrder) },
  };
}

function telegramFigures(log: DrillLog, replies: readonly Reply[], outcomes: readonly Outcome[]): TelegramFigures {
  const uncertainSends = log.telegram?.uncertainSends ?? null;
  // The bot messages after the first that answer a message (one answering several counted once): what resends leave.
  const extraMessages = new Set(outcomes.flatMap((o) => o.replies.slice(1))).size;
  return {
    uncertainSends,
    leftoverPreviews: replies.filter((r) => r.leftover).length,
    duplicatesInSendWindow: extraMessages > 0 && extraMessages <= (uncertainSends ?? 0),
  };
}

function faultReport(fault: FaultRecord, outcomes: readonly Outcome[]): FaultReport {
  const waitingAt = (t: number) => (o: Outcome) => o.message.sentAt <= t && !(o.firstReply && o.firstReply.firstAt <= t);
  const inFlightAtStart = outcomes.filter(waitingAt(fault.startedAt)).length;
  const waiting = outcomes.filter(waitingAt(fault.endedAt));
  let recoveredAt: number | undefined;
  if (waiting.length > 0) {
    // Caught up: every message that was waiting when the fault ended has its reply.
    if (waiting.every((o) => o.firstReply)) recoveredAt = Math.max(...waiting.map((o) => o.firstReply!.firstAt));
  } else {
    // Nothing was waiting: the first message sent afterwards, answered, counted from when it was sent.
    const next = outcomes
      .filter((o) => o.message.sentAt >= fault.endedAt && o.firstReply)
      .sort((a, b) => a.message.sentAt - b.message.sentAt)[0];
    if (next) recoveredAt = fault.endedAt + (next.firstReply!.firstAt - next.message.sentAt);
  }
  return { ...fault, recoveryMs: recoveredAt === undefined ? null : Math.max(0, recoveredAt - fault.endedAt), inFlightAtStart };
}

function latencySeries(outcomes: readonly Outcome[], drillStartedAt: number): LatencyPoint[] {
  return outcomes.filter((o) => o.firstReply).map((o) => ({
    channel: o.message.channel,
    conversationId: o.message.conversationId,
    messageId: o.message.messageId,
    t: (o.message.sentAt - drillStartedAt) / 1000,
    latencyMs: latencyOf(o),
  }));
}

function latencyOf(outcome: Outcome): number {
  return (outcome.firstReply?.firstAt ?? outcome.message.sentAt) - outcome.message.sentAt;
}

function refs(outcomes: readonly Outcome[]): MessageRef[] {
  return outcomes.slice(0, offenderCap).map(({ message: { conversationId, messageId, index } }) =>
    ({ conversationId, messageId, index }));
}

/** Redis stream ids (`<ms>-<seq>`) compare numerically; anything else sorts last rather than crash the report. */
function parseEventId(eventId: string): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(eventId);
  return match ? [Number(match[1]), Number(match[2])] : [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
}

function compareKeys(a: readonly [number, number], b: readonly [number, number]): number {
  // `|| 0`: ∞ − ∞ is NaN, and two keys that are both "last" are equal.
  return a[0] - b[0] || a[1] - b[1] || 0;
}

function bySendOrder(a: SentMessage, b: SentMessage): number {
  return a.sentAt - b.sentAt || compareText(a.conversationId, b.conversationId) || a.index - b.index
    || compareText(a.messageId, b.messageId);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
