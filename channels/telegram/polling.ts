/**
 * Long polling with at-least-once intake: an update's offset is confirmed (by the next getUpdates) only after
 * its signal was accepted. An update that cannot be handled (Temporal or Redis down) is retried, with backoff,
 * before any later one, so per-chat order holds and nothing is skipped. grammY's own `bot.start()` moves on
 * after a failed update, which would lose it; hence this loop.
 */
import { BotError, type Bot } from 'grammy';
import type { Logger } from '../../lib/logger';
import { retryUntilStopped } from './retry';

/** Edits and everything else are not asked for at all. */
export const allowedUpdates = ['message'] as const;

export interface Poller {
  /** Stops after the update in hand (if any) and confirms what was handled. */
  stop(): Promise<void>;
}

/** Long-poll timeout in seconds: an idle bot makes one request per this long. */
const pollTimeoutSeconds = 25;

export function startPolling(bot: Bot, logger: Logger): Poller {
  const stopping = new AbortController();
  const retry = { signal: stopping.signal, logger };
  // grammY types its signal parameter with the abort-controller polyfill's type; Node's own works the same.
  type ApiSignal = Parameters<Bot['api']['getUpdates']>[1];

  async function poll(): Promise<void> {
    // getUpdates refuses to run while a webhook is set (an earlier run in webhook mode).
    await retryUntilStopped('deleteWebhook', () => bot.api.deleteWebhook(), retry);
    let offset: number | undefined;
    while (!stopping.signal.aborted) {
      const request = { offset, timeout: pollTimeoutSeconds, allowed_updates: [...allowedUpdates] };
      // A 409 here means another process polls this bot: only one may (use the webhook to run several).
      const updates = await retryUntilStopped('getUpdates', () => bot.api.getUpdates(request, stopping.signal as ApiSignal), retry);
      for (const update of updates ?? []) {
        const handled = await retryUntilStopped(`update ${update.update_id}`, () => handle(update), retry);
        // Stopped before it was accepted: it stays unconfirmed, and the next poller gets it.
        if (handled === undefined) break;
        offset = update.update_id + 1;
      }
    }
    // Confirms the handled updates now, so the next start does not fetch them again (it would only drop them).
    if (offset !== undefined) {
      await bot.api.getUpdates({ offset, limit: 1, timeout: 0 }, AbortSignal.timeout(2_000) as ApiSignal).catch(() => undefined);
    }
  }

  async function handle(update: Parameters<Bot['handleUpdate']>[0]): Promise<true> {
    try {
      await bot.handleUpdate(update);
      return true;
    } catch (error) {
      throw error instanceof BotError ? error.error : error;
    }
  }

  const running = poll().catch((error: unknown) => logger.error({ err: error }, 'telegram polling stopped'));
  logger.info('telegram: long polling');
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
