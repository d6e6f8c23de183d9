/**
 * Worker process: the composition root that turns config into clients, activities and a Temporal worker.
 * `node --import tsx workers/main.ts` runs one (the dev stack starts WORKERS of them); SIGTERM drains it.
 */
import type { Tracer } from '@opentelemetry/api';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { Api } from 'grammy';
import { createActivities } from '../activities';
import { withServedModels } from '../activities/served-models';
import { createTelegramReplyActivities } from '../activities/telegram-replies';
import { GrammyOutbox } from '../channels/telegram/outbox';
import { TelegramPacer } from '../channels/telegram/pacer';
import { RedisReplyLedger } from '../channels/telegram/reply-ledger';
import { createBlobStore } from '../lib/blob-store';
import { keyRingOf, loadConfig, secretsOf, serviceNameOf, type AppConfig } from '../lib/config';
import { ConversationStore } from '../lib/conversation-store';
import { freePort } from '../lib/free-ports';
import { createLogger, type Logger } from '../lib/logger';
import { createMetrics, type Metrics } from '../lib/metrics';
import { connectRedis, type Redis } from '../lib/redis';
import { createTextCipher } from '../lib/text-cipher';
import { OverflowCodec } from '../lib/payload-overflow';
import { dataConverterFor, temporalConnectionOptions } from '../lib/temporal';
import { TextStore } from '../lib/text-store';
import { TokenBudget } from '../lib/token-budget';
import { TranscriptArchive } from '../lib/transcript-archive';
import { startTracing } from '../lib/tracing';
import { runAsMain } from '../lib/run-as-main';
import { telegramTaskQueue } from '../workflows/activity-options';
import { startMetricsServer } from './metrics-server';
import { PinoSdkLogger } from './sdk-logger';
import { activityInterceptors, workflowSpanSinks } from './tracing';
import { bundleWorkflows } from './workflow-bundle';


export interface WorkerHandle {
  /** The port of GET /metrics, /healthz and /readyz (`METRICS_PORT`), unless it is off. */
  metricsPort?: number;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  config?: AppConfig;
  /** A prebuilt workflow bundle (tests share one instead of bundling per worker). */
  workflowBundle?: WorkflowBundleOption;
  /** The SDK core's Prometheus exporter, served again on the worker's metrics port. */
  coreMetricsUrl?: string;
}

export async function start(options: WorkerOptions = {}): Promise<WorkerHandle> {
  const config = options.config ?? loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker', service: serviceNameOf(config, 'worker'), secrets: secretsOf(config) });
  for (const skipped of config.skippedProviders) {
    logger.warn({ provider: skipped.name, missing: skipped.missing }, 'model provider skipped: environment variables unset');
  }
  if (config.usingDevProvider) logger.warn('no model provider configured: the dev provider (echo) answers');

  const providers = await withServedModels(config.model.providers, logger);
  const tracing = startTracing(config, 'worker', logger);
  const metrics = createMetrics('worker');
  const redis = connectRedis(config.redis, { connectionName: 'worker', logger, errors: metrics.delivery.redisErrors });
  const ring = keyRingOf(config);
  const cipher = createTextCipher(ring);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const blobs = createBlobStore(config);
  const dataConverter = dataConverterFor(ring, new OverflowCodec(blobs, logger));
  const store = new ConversationStore(redis, config.redis.keyPrefix, { logger, cipher });
  const texts = new TextStore(blobs, cipher, logger);
  const activities = createActivities({
    providers,
    cache: store,
    transcripts: new TranscriptArchive(blobs, logger, cipher),
    texts,
    usage: new TokenBudget(redis, config.redis.keyPrefix, config.limits.tokensPerDay),
    metrics,
    tracer: tracing.tracer,
    logger,
  });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowSource(options.workflowBundle, config),
    activities,
    interceptors: { activity: activityInterceptors(tracing.tracer) },
    sinks: workflowSpanSinks(tracing),
    dataConverter,
    // In-flight model streams get this long to finish on SIGTERM; after that Temporal retries them elsewhere.
    shutdownGraceTime: '10 seconds',
    // A conversation cached on a worker that died moves to another worker after this (default 10 s).
    stickyQueueScheduleToStartTimeout: '3 seconds',
    // The SDK's default follows the heap limit (~2,300 on a 4 GB heap, several GB of cached state); the cache is
    // sized from memory instead, and an evicted conversation replays its short history on its next message.
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
  });
  const telegramDeps = { connection, dataConverter, redis, events: store, texts, requests: metrics.delivery.telegram, tracer: tracing.tracer, logger };
  const telegram = config.telegram.token ? [await telegramWorker(config, telegramDeps)] : [];
  const workers = [worker, ...telegram];
  const metricsServer =
    config.metrics.port === null
      ? undefined
      : await startMetricsServer({
          host: config.metrics.host,
          port: config.metrics.port,
          registry: metrics.registry,
          coreMetricsUrl: options.coreMetricsUrl,
          ready: () => workers.every((w) => w.getState() === 'RUNNING'),
        });
  let stopping = false;
  const running = Promise.all(workers.map((w) => w.run())).catch((error: unknown) => {
    if (stopping) throw error;
    // A worker that stops polling on its own is useless: exit so the launcher (or the orchestrator) restarts it.
    logger.fatal({ err: error }, 'worker failed');
    process.exit(1);
  });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, metricsPort: metricsServer?.port }, 'worker running');

  return {
    ...(metricsServer ? { metricsPort: metricsServer.port } : {}),
    async stop() {
      stopping = true;
      for (const w of workers) w.shutdown();
      await running;
      await metricsServer?.close();
      await connection.close();
      redis.disconnect();
      await tracing.shutdown();
      logger.info('worker stopped');
    },
  };
}

interface TelegramWorkerDeps {
  connection: NativeConnection;
  dataConverter: DataConverter;
  redis: Redis;
  events: ConversationStore;
  texts: TextStore;
  requests: Metrics['delivery']['telegram'];
  tracer: Tracer;
  logger: Logger;
}

/**
 * The worker for Telegram replies: activities only, on their own task queue. The server caps how many of them
 * start per second across all workers; the pacer keeps each chat and the whole bot within Telegram's limits.
 */
async function telegramWorker(config: AppConfig, deps: TelegramWorkerDeps): Promise<Worker> {
  const { connection, dataConverter, redis, events, texts, requests, tracer, logger } = deps;
  const { token, apiRoot, sendsPerSecond, privateChatGap, groupChatGap } = config.telegram;
  const pacer = new TelegramPacer(redis, config.redis.keyPrefix, { sendsPerSecond, privateChatGapMs: privateChatGap, groupChatGapMs: groupChatGap });
  const telegramLogger = logger.child({ channel: 'telegram' });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: telegramTaskQueue(config.temporal.taskQueue),
    activities: createTelegramReplyActivities({
      // A request that hangs gives up well within the reply lock's 15 s, so a slow edit cannot land after the final one.
      outbox: new GrammyOutbox(new Api(token!, { apiRoot, timeoutSeconds: 10 }), pacer, telegramLogger, requests),
      ledger: new RedisReplyLedger(redis, config.redis.keyPrefix),
      events,
      texts,
      requests,
      logger: telegramLogger,
    }),
    interceptors: { activity: activityInterceptors(tracer) },
    dataConverter,
    maxTaskQueueActivitiesPerSecond: sendsPerSecond,
    // Previews (at most 100 per worker) wait on the model most of the time; final deliveries always find a slot.
    maxConcurrentActivityTaskExecutions: 200,
    shutdownGraceTime: '10 seconds',
  });
}

/**
 * A bundle handed in (tests), else a prebuilt file (the launcher's, built for the same configuration), else bundle
 * the workflow code now (seconds), with the tracing interceptors when tracing is on.
 */
async function workflowSource(bundle: WorkflowBundleOption | undefined, config: AppConfig): Promise<WorkflowBundleOption> {
  const codePath = config.worker.workflowBundlePath;
  return bundle ?? (codePath ? { codePath } : await bundleWorkflows(Runtime.instance().logger, { tracing: config.tracing.endpoint !== undefined }));
}

await runAsMain(import.meta.url, async () => {
  const config = loadConfig();
  // The SDK core exports its own metrics on a loopback port; the worker's metrics port serves them with ours.
  const coreMetricsAddress = config.metrics.port === null ? undefined : `127.0.0.1:${await freePort()}`;
  Runtime.install({
    logger: new PinoSdkLogger(createLogger({ level: config.logLevel, name: 'temporal-sdk', service: serviceNameOf(config, 'worker'), secrets: secretsOf(config) })),
    ...(coreMetricsAddress ? { telemetryOptions: { metrics: { prometheus: corePrometheus(coreMetricsAddress) } } } : {}),
  });
  return start({ config, ...(coreMetricsAddress ? { coreMetricsUrl: `http://${coreMetricsAddress}/metrics` } : {}) });
});

/** The core's exporter: durations in seconds (as prom-client's), and buckets for the workflow's message counts. */
function corePrometheus(bindAddress: string) {
  return { bindAddress, useSecondsForDurations: true, histogramBucketOverrides: { aac_turn_queued_messages: [0, 1, 2, 5, 10, 20, 50, 100] } };
}
