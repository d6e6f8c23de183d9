/**
 * Telegram reply activities, run by workers on the Telegram task queue (its rate cap and the outbox's pacing keep
 * the bot inside Telegram's limits).
 *
 * - `previewTelegramReply` (best effort): shows "typing…" until the first tokens, then streams the answer into one
 *   message, edited as tokens arrive. It stops once the reply is final.
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
import { splitMessage } from '../channels/telegram/split-message';
import { RateLimitedError, RefusedError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { Reply } from '../workflows/messages';
import type { ConversationEventReader, OutboxOptions, SentPart, TelegramOutbox, TelegramReplyLedger } from './ports';

export interface TelegramReplyDeps {
  outbox: TelegramOutbox;
  ledger: TelegramReplyLedger;
  events: ConversationEventReader;
  logger: Logger;
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
/** The preview shows at most this much (the final edit shows the first part in full, the rest follows). */
const previewChars = 4_000;
/** A lock holder that died leaves the lock for at most this long. */
const lockTtlMs = 10_000;
/** A preview never outlives the longest model call. */
const previewLimitMs = 5 * 60_000;
const emptyAnswer = '(The model returned an empty answer.)';

export function createTelegramReplyActivities(deps: TelegramReplyDeps) {
  const { outbox, ledger, events, logger } = deps;

  async function previewTelegramReply({ conversationId, replyId, sinceMs }: PreviewTelegramReplyInput): Promise<void> {
    const context = Context.current();
    const chatId = telegramChatId(conversationId);
    const owner = randomUUID();
    const stopAt = Date.now() + previewLimitMs;
    let cursor = `${Math.max(0, sinceMs)}-0`;
    let text = '';
    let shown = '';
    let typingAt = 0;
    while (Date.now() < stopAt && !context.cancellationSignal.aborted) {
      context.heartbeat();
      if (await ledger.isFinal(replyId)) return;
      if (!text.trim() && Date.now() >= typingAt) {
        typingAt = Date.now() + typingEveryMs;
        await outbox.typing(chatId).catch((error: unknown) => logger.debug({ err: error }, 'typing action failed'));
      }
      for (const event of await events.readEvents(conversationId, cursor, { blockMs: 500 })) {
        cursor = event.id;
        if (event.type === 'token' && event.replyId === replyId) text += event.text;
        if (event.type === 'restart' && event.replyId === replyId) text = '';
        if (event.type === 'reply' && event.reply.replyId === replyId) return;
      }
      if (!text.trim()) continue;
      // Past the first part's length the preview stays as it is; the final delivery shows the rest.
      const preview = `${text.slice(0, previewChars)} …`;
      if (preview === shown) continue;
      const outcome = await showPreview(chatId, replyId, owner, preview);
      if (outcome === 'stop') return;
      if (outcome === 'shown') shown = preview;
    }
  }

  /** One send or edit of the preview, unless the chat's turn has not come yet or the final edit owns the message. */
  async function showPreview(chatId: number, replyId: string, owner: string, preview: string): Promise<'shown' | 'skipped' | 'stop'> {
    if (!(await ledger.tryLock(replyId, owner, lockTtlMs))) return 'skipped';
    try {
      if (await ledger.isFinal(replyId)) return 'stop';
      const first = (await ledger.parts(replyId)).get(0);
      // An earlier preview attempt died mid-send: leave the message to the final delivery, which counts it.
      if (first === 'pending') return 'stop';
      const options = { plain: true, maxWaitMs: 0 };
      if (first === undefined) await sendOnce(chatId, replyId, 0, preview, options);
      else if (!(await outbox.edit(chatId, first, preview, options))) return 'stop';
      return 'shown';
    } catch (error) {
      if (error instanceof RateLimitedError) return 'skipped';
      if (error instanceof RefusedError) return 'stop';
      throw error;
    } finally {
      await ledger.unlock(replyId, owner);
    }
  }

  async function sendTelegramReply({ conversationId, reply }: SendTelegramReplyInput): Promise<{ messageIds: number[] }> {
    const context = Context.current();
    const chatId = telegramChatId(conversationId);
    const owner = randomUUID();
    await ledger.markFinal(reply.replyId);
    // The preview may be editing right now: wait for its edit to land, so the final text is the last one.
    while (!(await ledger.tryLock(reply.replyId, owner, lockTtlMs))) {
      context.heartbeat();
      await sleep(100);
    }
    try {
      const parts = splitMessage(reply.text);
      const sent = await ledger.parts(reply.replyId);
      const messageIds: number[] = [];
      for (const [index, part] of (parts.length > 0 ? parts : [emptyAnswer]).entries()) {
        context.heartbeat();
        messageIds.push(await deliverPart(chatId, reply.replyId, index, part, sent.get(index)));
      }
      return { messageIds };
    } catch (error) {
      throw asActivityFailure(error);
    } finally {
      await ledger.unlock(reply.replyId, owner);
    }
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
      logger.warn({ replyId, part: index, uncertainSends: count }, 'telegram: resending a part whose earlier send may have arrived');
    }
    return sendOnce(chatId, replyId, index, part, options);
  }

  /** Sends a part between its `pending` and its sent mark; an answered refusal or 429 leaves nothing pending. */
  async function sendOnce(chatId: number, replyId: string, index: number, text: string, options: OutboxOptions): Promise<number> {
    await ledger.markPending(replyId, index);
    try {
      const messageId = await outbox.send(chatId, text, options);
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

/** `telegram:<chat id>` → the chat id. */
export function telegramChatId(conversationId: string): number {
  const chatId = Number(conversationId.slice('telegram:'.length));
  if (!conversationId.startsWith('telegram:') || !Number.isSafeInteger(chatId)) {
    throw ApplicationFailure.nonRetryable(`"${conversationId}" is not a Telegram conversation`, 'NotTelegram');
  }
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
