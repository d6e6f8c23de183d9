/**
 * The TelegramOutbox port the reply activities send through, and its grammY adapter: sends and edits through the
 * Bot API, paced by TelegramPacer, rendering Markdown as Telegram HTML and falling back to plain text when
 * Telegram rejects the formatting.
 * No auto-retry here: a 429 pauses the chat and surfaces as RateLimitedError, so Temporal's retry policy (with
 * the `retry_after` as the next delay) stays in charge. Errors leave here as the project's own (RateLimitedError,
 * RefusedError, plain Error): grammY's errors carry the request, message text included, into logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GrammyError, type Api } from 'grammy';
import { RateLimitedError, RefusedError } from '../../lib/errors';
import type { Metrics } from '../../lib/metrics';
import type { Logger } from '../../lib/logger';
import { renderTelegramHtml } from './markdown-html';
import type { TelegramPacer } from './pacer';

/**
 * Sends and edits messages in Telegram chats, paced to Telegram's limits. Text is the model's Markdown, sent as
 * Telegram HTML (as plain text when Telegram rejects the formatting, or with `plain`). Throws RateLimitedError
 * (Telegram said 429, or pacing would wait longer than `maxWaitMs`) and RefusedError (the chat is gone for good).
 */
export interface TelegramOutbox {
  typing(chatId: number): Promise<void>;
  /** Returns the new message's id. */
  send(chatId: number, text: string, options: OutboxOptions): Promise<number>;
  /**
   * An edit that changes nothing succeeds quietly (repeating an edit after a crash is harmless).
   * False when the message no longer exists (someone deleted it).
   */
  edit(chatId: number, messageId: number, text: string, options: OutboxOptions): Promise<boolean>;
}

export interface OutboxOptions {
  plain?: boolean;
  /** Wait at most this long for the chat's turn; 0: only if it is free right now. */
  maxWaitMs: number;
  /** Runs once the chat's turn is taken, right before each request goes out (not while it waits for the turn). */
  beforeRequest?: () => Promise<void>;
}

interface Content {
  text: string;
  parse_mode?: 'HTML';
}

class FormattingRejected extends Error {}

export class GrammyOutbox implements TelegramOutbox {
  constructor(
    private readonly api: Api,
    private readonly pacer: TelegramPacer,
    private readonly logger: Logger,
    /** Counts sends and edits by outcome (`aac_telegram_requests_total`). */
    private readonly requests?: Metrics['delivery']['telegram'],
  ) {}

  async typing(chatId: number): Promise<void> {
    await this.api.sendChatAction(chatId, 'typing');
  }

  async send(chatId: number, text: string, options: OutboxOptions): Promise<number> {
    const message = await this.formatted(chatId, text, options, 'sendMessage', (content) =>
      this.api.sendMessage(chatId, content.text, { parse_mode: content.parse_mode }),
    );
    return message.message_id;
  }

  async edit(chatId: number, messageId: number, text: string, options: OutboxOptions): Promise<boolean> {
    try {
      await this.formatted(chatId, text, options, 'editMessageText', (content) =>
        this.api.editMessageText(chatId, messageId, content.text, { parse_mode: content.parse_mode }),
      );
      return true;
    } catch (error) {
      if (error instanceof NotModified) return true;
      if (error instanceof MessageGone) return false;
      throw error;
    }
  }

  /** Sends as HTML; when Telegram rejects that (formatting it cannot parse, a part that renders empty), as the plain text. */
  private async formatted<T>(chatId: number, text: string, options: OutboxOptions, method: OutboxMethod, request: (content: Content) => Promise<T>): Promise<T> {
    if (options.plain) return this.paced(chatId, options, method, () => request({ text }));
    try {
      return await this.paced(chatId, options, method, () => request({ text: renderTelegramHtml(text), parse_mode: 'HTML' }));
    } catch (error) {
      if (!(error instanceof FormattingRejected)) throw error;
      this.logger.warn({ chatId, reason: error.message }, 'telegram rejected the formatted text; sending it plain');
      return this.paced(chatId, options, method, () => request({ text }));
    }
  }

  private async paced<T>(chatId: number, options: OutboxOptions, method: OutboxMethod, request: () => Promise<T>): Promise<T> {
    await this.waitForTurn(chatId, options.maxWaitMs);
    await options.beforeRequest?.();
    try {
      const result = await request();
      this.requests?.inc({ method, outcome: 'ok' });
      return result;
    } catch (error) {
      const translated = await this.translate(chatId, options, error);
      this.requests?.inc({ method, outcome: outcomes.get((translated as Error).constructor) ?? 'failed' });
      throw translated;
    }
  }

  /** Telegram's answer as the project's own error (grammY's holds the request, message text included). */
  private async translate(chatId: number, options: OutboxOptions, error: unknown): Promise<unknown> {
    if (!(error instanceof GrammyError)) return error;
    if (error.error_code === 429) {
      const retryAfterMs = (error.parameters.retry_after ?? 1) * 1000;
      await this.pacer.pause(chatId, retryAfterMs);
      this.logger.warn({ chatId, retryAfterMs, method: error.method }, 'telegram: 429, pausing this chat');
      return new RateLimitedError('telegram', retryAfterMs);
    }
    if (error.error_code === 400 && notModified(error)) return new NotModified();
    if (error.error_code === 400 && messageGone(error)) return new MessageGone();
    if (error.error_code === 400 && !options.plain) return new FormattingRejected(error.description);
    // Telegram answered for good (blocked by the user, chat gone, no rights): retrying cannot help.
    if (error.error_code === 400 || error.error_code === 403) return new RefusedError(`telegram refused ${error.method}: ${error.description}`);
    return new Error(`telegram ${error.method} failed: ${error.error_code} ${error.description}`);
  }

  private async waitForTurn(chatId: number, maxWaitMs: number): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const waitMs = await this.pacer.tryTake(chatId);
      if (waitMs === 0) return;
      if (Date.now() + waitMs > deadline) throw new RateLimitedError('telegram pacing', waitMs);
      await sleep(waitMs);
    }
  }
}

type OutboxMethod = 'sendMessage' | 'editMessageText';

class NotModified extends Error {}
class MessageGone extends Error {}

/** The metric's outcome for each error `translate` returns; anything else counts as failed. */
const outcomes = new Map<unknown, string>([
  [RateLimitedError, '429'],
  [NotModified, 'unchanged'],
  [MessageGone, 'gone'],
  [FormattingRejected, 'formatting_rejected'],
  [RefusedError, 'refused'],
]);

function notModified(error: GrammyError): boolean {
  return error.description.includes('message is not modified');
}

/** Deleted, or too old / not ours to edit: the preview has to become a new message. */
function messageGone(error: GrammyError): boolean {
  return error.method === 'editMessageText' && /message to edit not found|message can't be edited/.test(error.description);
}
