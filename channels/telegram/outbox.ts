/**
 * grammY adapter for the TelegramOutbox port: sends and edits through the Bot API, paced by TelegramPacer,
 * rendering Markdown as Telegram HTML and falling back to plain text when Telegram rejects the formatting.
 * No auto-retry here: a 429 pauses the bot and surfaces as RateLimitedError, so Temporal's retry policy (with
 * the `retry_after` as the next delay) stays in charge.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GrammyError, type Api } from 'grammy';
import type { OutboxOptions, TelegramOutbox } from '../../activities/ports';
import { RateLimitedError, RefusedError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { renderTelegramHtml } from './markdown-html';
import type { TelegramPacer } from './pacer';

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
  ) {}

  async typing(chatId: number): Promise<void> {
    await this.api.sendChatAction(chatId, 'typing');
  }

  async send(chatId: number, text: string, options: OutboxOptions): Promise<number> {
    const message = await this.formatted(chatId, text, options, (content) =>
      this.api.sendMessage(chatId, content.text, { parse_mode: content.parse_mode }),
    );
    return message.message_id;
  }

  async edit(chatId: number, messageId: number, text: string, options: OutboxOptions): Promise<boolean> {
    try {
      await this.formatted(chatId, text, options, (content) =>
        this.api.editMessageText(chatId, messageId, content.text, { parse_mode: content.parse_mode }),
      );
      return true;
    } catch (error) {
      if (isTelegramError(error, 400, 'message is not modified')) return true;
      if (isTelegramError(error, 400, 'message to edit not found')) return false;
      throw error;
    }
  }

  /** Sends as HTML; when Telegram cannot parse it, once more as the plain Markdown text. */
  private async formatted<T>(chatId: number, text: string, options: OutboxOptions, request: (content: Content) => Promise<T>): Promise<T> {
    if (options.plain) return this.paced(chatId, options, () => request({ text }));
    try {
      return await this.paced(chatId, options, () => request({ text: renderTelegramHtml(text), parse_mode: 'HTML' }));
    } catch (error) {
      if (!(error instanceof FormattingRejected)) throw error;
      this.logger.warn({ chatId, reason: error.message }, 'telegram rejected the formatting; sending plain text');
      return this.paced(chatId, options, () => request({ text }));
    }
  }

  private async paced<T>(chatId: number, options: OutboxOptions, request: () => Promise<T>): Promise<T> {
    await this.waitForTurn(chatId, options.maxWaitMs);
    try {
      return await request();
    } catch (error) {
      if (isTelegramError(error, 400, "can't parse entities")) throw new FormattingRejected((error as GrammyError).description);
      if (isTelegramError(error, 400, 'message is not modified') || isTelegramError(error, 400, 'message to edit not found')) {
        throw error;
      }
      throw await this.translateAndPause(error);
    }
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

  private async translateAndPause(error: unknown): Promise<unknown> {
    if (error instanceof GrammyError && error.error_code === 429) {
      const retryAfterMs = (error.parameters.retry_after ?? 1) * 1000;
      await this.pacer.pause(retryAfterMs);
      this.logger.warn({ retryAfterMs, method: error.method }, 'telegram: 429, pausing every send');
      return new RateLimitedError('telegram', retryAfterMs);
    }
    return this.translate(error);
  }

  /** 400/403 (blocked by the user, chat gone, no rights) cannot get better by retrying; the rest may. */
  private translate(error: unknown): unknown {
    if (error instanceof GrammyError && (error.error_code === 400 || error.error_code === 403)) {
      return new RefusedError(`telegram refused ${error.method}: ${error.description}`, { cause: error });
    }
    return error;
  }
}

function isTelegramError(error: unknown, code: number, text: string): boolean {
  return error instanceof GrammyError && error.error_code === code && error.description.includes(text);
}
