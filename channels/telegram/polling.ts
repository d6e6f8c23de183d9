/**
 * Long polling with at-least-once intake: an update's offset is confirmed (by the next getUpdates) only after
 * its signal was accepted. An update that cannot be handled (Temporal or Redis down) is retried, with backoff,
 * before any later one, so per-chat order holds and nothing is skipped. grammY's own `bot.start()` moves on
 * after a failed update, which would lose it; hence this loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BotError, GrammyError, type Bot } from 'grammy';
import type { Logger } from '../../lib/logger';

export const allowedUpdates = ['message', 'edited_message'] as const;

export interface Poller {
  /** Stops after the update in hand (if any) and confirms what was handled. */
  stop(): Promise<void>;
}

/** Long-poll timeout in seconds: an idle bot makes one request per this long. */
const pollTimeoutSeconds = 25;

export function startPolling(bot: Bot, logger: Logger): Poller {
  const stopping = new AbortController();
  const { signal } = stopping;
  const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);

  async function poll(): Promise<void> {
    // getUpdates refuses to run while a webhook is set (an earlier run in webhook mode).
    await retrying('deleteWebhook', () => bot.api.deleteWebhook());
    let offset: number | undefined;
    let failures = 0;
    while (!signal.aborted) {
      let updates;
      try {
        const request = { offset, timeout: pollTimeoutSeconds, allowed_updates: [...allowedUpdates] };
        // grammY types its signal parameter with the abort-controller polyfill's type; Node's own works the same.
        updates = await bot.api.getUpdates(request, signal as Parameters<Bot['api']['getUpdates']>[1]);
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        const conflict = error instanceof GrammyError && error.error_code === 409;
        logger.error({ err: error, failures }, conflict ? 'telegram: another process polls this bot (only one may)' : 'telegram: getUpdates failed');
        await pause(backoffMs(failures));
        continue;
      }
      for (const update of updates) {
        if (!(await handleUntilAccepted(update))) return;
        offset = update.update_id + 1;
      }
    }
    // Confirms the handled updates now, so the next start does not fetch them again (it would only drop them).
    if (offset !== undefined) await bot.api.getUpdates({ offset, limit: 1, timeout: 0 }).catch(() => undefined);
  }

  /** False when stopped before the update was accepted (it stays unconfirmed: the next poller gets it). */
  async function handleUntilAccepted(update: Parameters<Bot['handleUpdate']>[0]): Promise<boolean> {
    for (let failures = 1; ; failures++) {
      try {
        await bot.handleUpdate(update);
        return true;
      } catch (error) {
        const cause = error instanceof BotError ? error.error : error;
        logger.warn({ err: cause, updateId: update.update_id, failures }, 'telegram update not accepted yet; retrying it');
        await pause(backoffMs(failures));
        if (signal.aborted) return false;
      }
    }
  }

  async function retrying<T>(what: string, call: () => Promise<T>): Promise<void> {
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        await call();
        return;
      } catch (error) {
        logger.warn({ err: error, failures }, `telegram: ${what} failed; retrying`);
        await pause(backoffMs(failures));
      }
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

/** 0.5 s, 1 s, 2 s … capped at 30 s. */
export function backoffMs(failures: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, failures - 1));
}
