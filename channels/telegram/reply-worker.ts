/**
 * The worker for Telegram replies: activities only, on their own task queue (`telegramTaskQueue`). The server caps
 * how many of them start per second across all workers; the pacer keeps each chat and the whole bot within
 * Telegram's limits. workers/main.ts starts it beside the conversation worker when a bot token is configured.
 */
import type { DataConverter } from '@temporalio/common';
import { Worker, type ActivityInterceptorsFactory, type NativeConnection } from '@temporalio/worker';
import { Api } from 'grammy';
import type { ConversationEventReader, LargeTexts } from '../../activities/ports';
import type { AppConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { Redis } from '../../lib/redis';
import { telegramTaskQueue } from '../../workflows/activity-options';
import { GrammyOutbox } from './outbox';
import { TelegramPacer } from './pacer';
import { createTelegramReplyActivities } from './reply-activities';
import { RedisReplyLedger } from './reply-ledger';

export interface TelegramReplyWorkerDeps {
  config: AppConfig;
  connection: NativeConnection;
  dataConverter: DataConverter;
  redis: Redis;
  events: ConversationEventReader;
  texts: Pick<LargeTexts, 'resolve'>;
  requests: Metrics['delivery']['telegram'];
  /** The same activity interceptors (tracing) as the conversation worker's. */
  activityInterceptors: ActivityInterceptorsFactory[];
  logger: Logger;
}

export async function createTelegramReplyWorker(token: string, deps: TelegramReplyWorkerDeps): Promise<Worker> {
  const { config, connection, dataConverter, redis, events, texts, requests, logger } = deps;
  const { apiRoot, sendsPerSecond, privateChatGap, groupChatGap } = config.telegram;
  const pacer = new TelegramPacer(redis, config.redis.keyPrefix, { sendsPerSecond, privateChatGapMs: privateChatGap, groupChatGapMs: groupChatGap });
  const telegramLogger = logger.child({ channel: 'telegram' });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: telegramTaskQueue(config.temporal.taskQueue),
    activities: createTelegramReplyActivities({
      // A request that hangs gives up well within the reply lock's 15 s, so a slow edit cannot land after the final one.
      outbox: new GrammyOutbox(new Api(token, { apiRoot, timeoutSeconds: 10 }), pacer, telegramLogger, requests),
      ledger: new RedisReplyLedger(redis, config.redis.keyPrefix),
      events,
      texts,
      requests,
      logger: telegramLogger,
    }),
    interceptors: { activity: deps.activityInterceptors },
    dataConverter,
    maxTaskQueueActivitiesPerSecond: sendsPerSecond,
    // Previews (at most 100 per worker) wait on the model most of the time; final deliveries always find a slot.
    maxConcurrentActivityTaskExecutions: 200,
    shutdownGraceTime: '10 seconds',
  });
}
