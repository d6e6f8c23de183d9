/**
 * The Telegram channel as the API process runs it: the grammY bot, its commands, and intake by long polling or,
 * when a webhook URL is configured, by the `/telegram/webhook` route. Start-up steps that need Telegram
 * (getMe, commands, setWebhook) retry in the background, so the API starts even while Telegram is unreachable;
 * until they are done the webhook route answers 503 and Telegram redelivers.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Tracer } from '@opentelemetry/api';
import { BotError } from 'grammy';
import type { Update } from 'grammy/types';
import type { AppConfig } from '../../lib/config';
import type { Conversations } from '../../lib/conversations';
import type { Logger } from '../../lib/logger';
import type { TextCipher } from '../../lib/text-cipher';
import type { Redis } from '../../lib/redis';
import { MessageLimits } from '../../lib/rate-limits';
import { createTelegramBot } from './bot';
import { syncCommands } from './commands';
import { allowedUpdates, startPolling, type Poller } from './polling';
import { retryUntilStopped } from './retry';

/** What the webhook route needs. */
export interface TelegramWebhook {
  /** `ready` once the bot knows itself and the secret; `wrong-secret` for any other caller. */
  check(secretHeader: string | undefined): 'ready' | 'starting' | 'wrong-secret';
  /** Resolves once the update's signal was accepted; rejects with the handler's own error otherwise (non-2xx). */
  handle(update: Update): Promise<void>;
}

export interface TelegramChannel {
  /** Present in webhook mode. */
  webhook?: TelegramWebhook;
  stop(): Promise<void>;
}

export interface TelegramChannelDeps {
  config: AppConfig;
  /** Encrypts the generated webhook secret in Redis. */
  cipher: TextCipher;
  conversations: Conversations;
  redis: Redis;
  /** A span per update (lib/tracing.ts). */
  tracer: Tracer;
  logger: Logger;
}

export function startTelegramChannel(token: string, deps: TelegramChannelDeps): TelegramChannel {
  const { config, redis, logger } = deps;
  const { apiRoot, commandPrefix, webhook } = config.telegram;
  const keyPrefix = config.redis.keyPrefix;
  const messageLimits = new MessageLimits(redis, keyPrefix, config.limits);
  const bot = createTelegramBot(token, apiRoot, { ...deps, keyPrefix, commandPrefix, messageLimits });
  const stopping = new AbortController();
  let secret: Buffer | undefined;
  let poller: Poller | undefined;

  async function prepare(): Promise<void> {
    // Not bot.init(): it retries getMe silently for ever; a failure here reaches our retry loop and the log.
    if (!bot.isInited()) bot.botInfo = await bot.api.getMe();
    // Telegram's command menu only knows "/" commands.
    if (commandPrefix === '/' && (await syncCommands(bot.api))) logger.info('telegram: bot commands registered');
    if (!webhook.url) {
      if (!stopping.signal.aborted) poller = startPolling(bot, logger);
      return;
    }
    const token = webhook.secret ?? (await keptSecret(redis, keyPrefix, deps.cipher));
    await registerWebhook(webhook.url, token);
    secret = Buffer.from(token);
    logger.info({ 'url.full': webhook.url }, 'telegram: webhook ready');
  }

  /** setWebhook only when Telegram's URL or our secret changed since the last registration. */
  async function registerWebhook(url: string, token: string): Promise<void> {
    const fingerprint = createHash('sha256').update(`${url}\n${token}`).digest('hex');
    const key = `${keyPrefix}tg:webhook-registered`;
    const info = await bot.api.getWebhookInfo();
    if (info.url === url && (await redis.get(key)) === fingerprint) return;
    // One connection at a time: Telegram then delivers a chat's updates in order, as long polling does.
    await bot.api.setWebhook(url, { secret_token: token, allowed_updates: [...allowedUpdates], max_connections: 1 });
    await redis.set(key, fingerprint);
  }

  // Start-up steps that need Telegram retry in the background: the API serves meanwhile.
  const prepared = retryUntilStopped('start-up', prepare, { signal: stopping.signal, logger });

  return {
    ...(webhook.url
      ? {
          webhook: {
            check(header) {
              if (!secret) return 'starting';
              const given = Buffer.from(header ?? '');
              return given.length === secret.length && timingSafeEqual(given, secret) ? 'ready' : 'wrong-secret';
            },
            // grammY wraps a handler's error: the route gets the error itself (unavailable → 503).
            handle: (update) =>
              bot.handleUpdate(update).catch((error: unknown) => {
                throw error instanceof BotError ? error.error : error;
              }),
          } satisfies TelegramWebhook,
        }
      : {}),
    async stop() {
      stopping.abort();
      // A start-up request to Telegram may hang (grammY's own timeout is minutes): do not wait for it.
      await Promise.race([prepared, sleep(2_000)]);
      await poller?.stop();
    },
  };
}

/** The webhook secret generated once per deployment and shared by every API process through Redis, encrypted there. */
async function keptSecret(redis: Redis, keyPrefix: string, cipher: TextCipher): Promise<string> {
  const key = `${keyPrefix}tg:webhook-secret`;
  await redis.set(key, cipher.seal(randomBytes(32).toString('base64url')), 'NX');
  const stored = await redis.get(key);
  if (!stored) throw new Error('the webhook secret vanished from Redis');
  return cipher.open(stored); // one stored before encryption was configured opens as it is
}
