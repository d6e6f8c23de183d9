/**
 * Telegram reply activities, run by workers on the Telegram task queue (its rate cap and the outbox's pacing keep
 * the bot inside Telegram's limits).
 *
 * - `previewTelegramReply` (best effort): shows "typing…" until the answer has streamed for a second, then streams it
 *   into one message, edited as tokens arrive. It stops once the reply is final: an answer done within that second
 *   is sent once, whole (one request instead of a send and an edit, and no send whose id a killed worker can lose).
 * - `sendTelegramReply` (durable): makes the chat show the whole reply: edits the preview message into the first
 *   part, sends the other parts (a reply longer than 4096 characters is split), each part sent at most once.
 *
 * Exactly once, as far as Telegram allows: a part is marked `pending` before it is sent and gets its message id
 * after. A retry that finds the id edits (harmless when repeated) or skips; one that finds `pending` cannot know
 * whether Telegram got the message (the worker died in between), sends it again and counts it (`countUncertainSend`).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ConversationEventReader, LargeTexts } from '../../activities/ports';
import type { StoredEvent } from '../../lib/conversation-events';
import { RateLimitedError, RefusedError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { Reply } from '../../workflows/messages';
import { chatIdOf } from './conversation-id';
import type { OutboxOptions, TelegramOutbox } from './outbox';
import type { SentPart, TelegramReplyLedger } from './reply-ledger';
import { splitMessage } from './split-message';

export interface TelegramReplyDeps {
  outbox: TelegramOutbox;
  ledger: TelegramReplyLedger;
  events: ConversationEventReader;
  /** Reads a reply carried by reference. */
  texts: Pick<LargeTexts, 'resolve'>;
  logger: Logger;
  /** Live previews one worker runs at once (default 100); beyond it chats see "typing…" and then the answer. */
  maxLivePreviews?: number;
  /** Counts resends whose earlier send may have arrived (`outcome: uncertain`). */
  requests?: Metrics['delivery']['telegram'];
}

export interface PreviewTelegramReplyInput {
  conversationId: string;
  replyId: string;
  /** Unix ms a little before the model call started: its token events are on the stream after this time. */
  sinceMs: number;
}

export interface SendTelegramReplyInput {
  conversationId: string;
  reply: Reply;
}

/** Telegram shows "typing…" for about 5 s per chat action. */
const typingEveryMs = 4_000;
/** The answer streams this long before it shows as a message; a shorter one goes out whole, as one message. */
const previewAfterMs = 1_000;
/** How often the preview looks for new tokens (a plain read: no Redis connection is held while it waits). */
const pollEveryMs = 250;
/** The preview shows at most this much (the final edit shows the first part in full, the rest follows). */
const previewChars = 4_000;
/**
 * A preview that died holding the lock (it holds it for one send or edit) blocks the final delivery this long at
 * most; longer than one Telegram request may take (10 s). A retried final delivery takes its own lock over at once.
 */
const lockTtlMs = 15_000;
/** A preview ends before its activity's start-to-close timeout (5 minutes), so it never times out into a retry. */
const previewLimitMs = 4.5 * 60_000;
const emptyAnswer = '(The model returned an empty answer.)';

export function createTelegramReplyActivities(deps: TelegramReplyDeps) {
  const { outbox, ledger, events, logger } = deps;
  const maxLivePreviews = deps.maxLivePreviews ?? 100;
  let livePreviews = 0;

  async function previewTelegramReply(input: PreviewTelegramReplyInput): Promise<void> {
    const chatId = telegramChatId(input.conversationId);
    // Previews share the worker's activity slots with final deliveries: past the cap, a chat gets "typing…" only.
    if (livePreviews >= maxLivePreviews) {
      await outbox.typing(chatId).catch(() => undefined);
      return;
    }
    livePreviews++;
    const beating = keepBeating();
    try {
      await streamPreview(chatId, input);
    } finally {
      clearInterval(beating);
      livePreviews--;
    }
  }

  async function streamPreview(chatId: number, { conversationId, replyId, sinceMs }: PreviewTelegramReplyInput): Promise<void> {
    const { cancellationSignal } = Context.current();
    const owner = randomUUID();
    const stopAt = Date.now() + previewLimitMs;
    const answer = new StreamedAnswer(replyId);
    let cursor = `${Math.max(0, sinceMs)}-0`;
    let shown = '';
    let streamingSince: number | undefined;
    let typingAt = 0;
    let nextTryAt = 0;
    while (Date.now() < stopAt && !cancellationSignal.aborted) {
      if (await ledger.isFinal(replyId)) return;
      if (!shown && Date.now() >= typingAt) {
        typingAt = Date.now() + typingEveryMs;
        await outbox.typing(chatId).catch((error: unknown) => logger.debug({ err: error }, 'typing action failed'));
      }
      const batch = await events.readEvents(conversationId, cursor, { count: 500 });
      for (const event of batch) {
        cursor = event.id;
        if (answer.take(event) === 'final') return;
      }
      if (answer.text.trim()) streamingSince ??= Date.now();
      const due = streamingSince !== undefined && Date.now() - streamingSince >= previewAfterMs && Date.now() >= nextTryAt;
      // Past the first part's length the preview stays as it is; the final delivery shows the rest.
      const preview = `${answer.text.slice(0, previewChars)} …`;
      if (due && answer.text.trim() && preview !== shown) {
        const outcome = await showPreview(chatId, replyId, owner, preview);
        if (outcome.kind === 'stop') return;
        if (outcome.kind === 'shown') shown = preview;
        else nextTryAt = Date.now() + outcome.waitMs;
      }
      if (batch.length === 0) await sleep(pollEveryMs);
    }
  }

  /** One send or edit of the preview, unless the chat's turn has not come yet or the final edit owns the message. */
  async function showPreview(chatId: number, replyId: string, owner: string, preview: string): Promise<PreviewOutcome> {
    if (!(await ledger.tryLock(replyId, owner, lockTtlMs))) return { kind: 'later', waitMs: pollEveryMs };
    try {
      if (await ledger.isFinal(replyId)) return { kind: 'stop' };
      const first = (await ledger.parts(replyId)).get(0);
      // An earlier preview attempt died mid-send: leave the message to the final delivery, which counts it.
      if (first === 'pending') return { kind: 'stop' };
      const options = { plain: true, maxWaitMs: 0 };
      if (first === undefined) await sendOnce(chatId, replyId, 0, preview, options);
      else if (!(await outbox.edit(chatId, first, preview, options))) return { kind: 'stop' };
      return { kind: 'shown' };
    } catch (error) {
      // The chat's turn has not come (pacing, or a 429's retry_after): try again when it has.
      if (error instanceof RateLimitedError) return { kind: 'later', waitMs: error.retryAfterMs };
      if (error instanceof RefusedError) return { kind: 'stop' };
      throw error;
    } finally {
      await release(replyId, owner);
    }
  }

  async function sendTelegramReply({ conversationId, reply }: SendTelegramReplyInput): Promise<{ messageIds: number[] }> {
    const chatId = telegramChatId(conversationId);
    const beating = keepBeating();
    try {
      const whole = await deps.texts.resolve(reply);
      await ledger.markFinal(reply.replyId);
      return await deliverAll(chatId, whole);
    } catch (error) {
      throw asActivityFailure(error);
    } finally {
      clearInterval(beating);
    }
  }

  /** Every part, under the reply's lock: the preview may be editing right now, and the final text must land last. */
  async function deliverAll(chatId: number, reply: Reply): Promise<{ messageIds: number[] }> {
    // The same owner for every attempt: one killed while holding the lock does not hold up its retry.
    const owner = `final:${reply.replyId}`;
    while (!(await ledger.tryLock(reply.replyId, owner, lockTtlMs))) await sleep(100);
    try {
      const parts = splitMessage(reply.text);
      const sent = await ledger.parts(reply.replyId);
      const messageIds: number[] = [];
      for (const [index, part] of (parts.length > 0 ? parts : [emptyAnswer]).entries()) {
        messageIds.push(await deliverPart(chatId, reply.replyId, index, part, sent.get(index)));
      }
      return { messageIds };
    } finally {
      await release(reply.replyId, owner);
    }
  }

  /** A failed unlock must not hide what happened under the lock: the lock expires by itself. */
  async function release(replyId: string, owner: string): Promise<void> {
    await ledger.unlock(replyId, owner).catch((error: unknown) => logger.warn({ err: error, replyId }, 'telegram: unlock failed'));
  }

  async function deliverPart(chatId: number, replyId: string, index: number, part: string, known: SentPart | undefined): Promise<number> {
    // Waits for the chat's turn in steps short enough to keep heartbeating; longer waits go back to Temporal.
    const options = { maxWaitMs: 5_000 };
    if (typeof known === 'number') {
      // Only the first part can be a preview; later parts were sent final already.
      if (index > 0 || (await outbox.edit(chatId, known, part, options))) return known;
      logger.info({ replyId }, 'telegram: the preview message is gone; sending the first part anew');
      return sendOnce(chatId, replyId, index, part, options);
    }
    if (known === 'pending') {
      const count = await ledger.countUncertainSend();
      deps.requests?.inc({ method: 'sendMessage', outcome: 'uncertain' });
      logger.warn({ replyId, part: index, uncertainSends: count }, 'telegram: resending a part whose earlier send may have arrived');
    }
    return sendOnce(chatId, replyId, index, part, options);
  }

  /**
   * Sends a part between its `pending` and its sent mark; an answered refusal or 429 leaves nothing pending. Pending
   * from when the request goes out, not while it waits for the chat's turn: a worker killed while waiting sent nothing.
   */
  async function sendOnce(chatId: number, replyId: string, index: number, text: string, options: OutboxOptions): Promise<number> {
    try {
      const messageId = await outbox.send(chatId, text, { ...options, beforeRequest: () => ledger.markPending(replyId, index) });
      await ledger.markSent(replyId, index, messageId);
      return messageId;
    } catch (error) {
      // Other errors (a timeout, a lost connection) may hide a message that arrived: the part stays pending.
      if (error instanceof RateLimitedError || error instanceof RefusedError) await ledger.unmark(replyId, index);
      throw error;
    }
  }

  return { previewTelegramReply, sendTelegramReply };
}

export type TelegramReplyActivities = ReturnType<typeof createTelegramReplyActivities>;

type PreviewOutcome = { kind: 'shown' } | { kind: 'stop' } | { kind: 'later'; waitMs: number };

/**
 * The answer as the model streams it, rebuilt from the event stream: a `restart` (a retried model attempt)
 * discards the text so far, and tokens of an older attempt that arrive late are ignored.
 */
class StreamedAnswer {
  text = '';
  private attempt = 0;

  constructor(private readonly replyId: string) {}

  take(event: StoredEvent): 'final' | undefined {
    if (event.type === 'reply') return event.reply.replyId === this.replyId ? 'final' : undefined;
    if (event.replyId !== this.replyId || event.attempt < this.attempt) return undefined;
    if (event.attempt > this.attempt || event.type === 'restart') {
      this.attempt = event.attempt;
      this.text = '';
    }
    if (event.type === 'token') this.text += event.text;
    return undefined;
  }
}

/** Heartbeats every 2 s while an activity runs, also while it waits on Telegram or for a lock. */
function keepBeating(): NodeJS.Timeout {
  const context = Context.current();
  context.heartbeat();
  return setInterval(() => context.heartbeat(), 2_000);
}

/** The chat a Telegram conversation's reply goes to. */
function telegramChatId(conversationId: string): number {
  const chatId = chatIdOf(conversationId);
  if (chatId === undefined) throw ApplicationFailure.nonRetryable(`"${conversationId}" is not a Telegram conversation`, 'NotTelegram');
  return chatId;
}

/** Telegram's 429 becomes a retry exactly when Telegram allows it; a refusal is final. */
function asActivityFailure(error: unknown): unknown {
  if (error instanceof RateLimitedError) {
    return ApplicationFailure.create({ message: error.message, type: 'RateLimited', nextRetryDelay: error.retryAfterMs });
  }
  if (error instanceof RefusedError) return ApplicationFailure.nonRetryable(error.message, 'TelegramRefused');
  return error;
}
