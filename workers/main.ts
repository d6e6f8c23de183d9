/**
 * Worker process: the composition root that turns config into clients, activities and a Temporal worker.
 * `node --import tsx workers/main.ts` runs one (the dev stack starts WORKERS of them); SIGTERM drains it.
 */
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../activities';
import { withServedModels } from '../activities/served-models';
import { createBlobStore } from '../lib/blob-store';
import { keyRingOf, loadConfig, secretsOf, serviceNameOf, type AppConfig } from '../lib/config';
import { ConversationStore } from '../lib/conversation-store';
import { freePort } from '../lib/free-ports';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { connectRedis } from '../lib/redis';
import { createTextCipher } from '../lib/text-cipher';
import { OverflowCodec } from '../lib/payload-overflow';
import { dataConverterFor, temporalConnectionOptions } from '../lib/temporal';
import { TextStore } from '../lib/text-store';
import { TokenBudget } from '../lib/token-budget';
import { TranscriptArchive } from '../lib/transcript-archive';
import { startTracing } from '../lib/tracing';
import { runAsMain } from '../lib/run-as-main';
import { startIdleCloser } from './idle-closer';
import { serveParkedQueue } from './parked-queue';
import { startMetricsServer } from './metrics-server';
import { PinoSdkLogger } from './sdk-logger';
import { workerTracing } from './tracing';
import { bundleWorkflows } from './workflow-bundle';

/**
 * Workflow tasks of parked runs at once. A parked run has two workflow tasks in its life (park, then wake or close),
 * each a round trip to a server that may be busy: a few in flight keep up with a burst of parking and drain a backlog
 * of idle closes after downtime in seconds (2,000 in ~20 s here), small next to the conversations' worker.
 */
const parkedTaskSlots = 8;

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
  const tracing = await startTracing(config, 'worker', logger);
  const traced = await workerTracing(tracing);
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
  const workflowBundle = await workflowSource(options.workflowBundle, config);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle,
    activities,
    interceptors: { activity: traced.activityInterceptors },
    sinks: traced.sinks,
    dataConverter,
    // In-flight model streams get this long to finish on SIGTERM; after that Temporal retries them elsewhere.
    shutdownGraceTime: '10 seconds',
    // A conversation cached on a worker that died moves to another worker after this (default 10 s).
    stickyQueueScheduleToStartTimeout: '3 seconds',
    // The SDK's default follows the heap limit (~2,300 on a 4 GB heap, several GB of cached state); the cache is
    // sized from memory instead, and an evicted conversation replays its short history on its next message.
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
  });
  const telegram: Worker[] = [];
  if (config.telegram.token) {
    // Loaded only with a bot token: a worker without Telegram does not hold grammY (~3 MB of heap).
    const { createTelegramReplyWorker } = await import('../channels/telegram/reply-worker');
    telegram.push(
      await createTelegramReplyWorker(config.telegram.token, {
        config, connection, dataConverter, redis, events: store, texts, requests: metrics.delivery.telegram,
        activityInterceptors: traced.activityInterceptors, logger,
      }),
    );
  }
  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  let stopping = false;
  const run = (w: Worker) => {
    workers.push(w);
    runs.push(
      w.run().catch((error: unknown) => {
        if (stopping) throw error;
        // A worker that stops polling on its own is useless: exit so the launcher (or the orchestrator) restarts it.
        logger.fatal({ err: error }, 'worker failed');
        process.exit(1);
      }),
    );
  };
  [worker, ...telegram].forEach(run);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
  // Parked conversations (workflows/parking.ts) wait on a queue of their own, served with a few slots and no cache: a
  // parked run's history is a few events, so its second task replays it in a moment, and without a cache no poller
  // waits on a sticky queue. After downtime their idle closes drain beside live work, not before it.
  const parkedQueue = await serveParkedQueue({
    parking: config.conversation.parkAfter !== null,
    client,
    taskQueue: config.temporal.taskQueue,
    serve: async (taskQueue) => {
      const parked = await Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue,
        workflowBundle,
        sinks: traced.sinks,
        dataConverter,
        shutdownGraceTime: '10 seconds',
        maxCachedWorkflows: 0,
        maxConcurrentWorkflowTaskExecutions: parkedTaskSlots,
      });
      run(parked);
    },
    logger,
  });
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
  const idleCloser = startIdleCloser({
    client,
    claims: store,
    taskQueue: config.temporal.taskQueue,
    idleTimeoutMs: config.conversation.idleTimeout,
    perSecond: config.worker.idleClosesPerSecond,
    logger,
    metrics: metrics.idleCloser,
  });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, metricsPort: metricsServer?.port }, 'worker running');

  return {
    ...(metricsServer ? { metricsPort: metricsServer.port } : {}),
    async stop() {
      stopping = true;
      await idleCloser.stop();
      await parkedQueue.stop();
      for (const w of workers) w.shutdown();
      await Promise.all(runs);
      await metricsServer?.close();
      await connection.close();
      redis.disconnect();
      await tracing.shutdown();
      logger.info('worker stopped');
    },
  };
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
    // runAsMain stops the worker on SIGINT/SIGTERM, in order (the SDK's own handler would drain the workers first,
    // and make our stop fail halfway, cutting the activities in flight short).
    shutdownSignals: [],
    logger: new PinoSdkLogger(createLogger({ level: config.logLevel, name: 'temporal-sdk', service: serviceNameOf(config, 'worker'), secrets: secretsOf(config) })),
    ...(coreMetricsAddress ? { telemetryOptions: { metrics: { prometheus: corePrometheus(coreMetricsAddress) } } } : {}),
  });
  return start({ config, ...(coreMetricsAddress ? { coreMetricsUrl: `http://${coreMetricsAddress}/metrics` } : {}) });
});

/** The core's exporter: durations in seconds (as prom-client's), and buckets for the workflow's message counts. */
function corePrometheus(bindAddress: string) {
  return { bindAddress, useSecondsForDurations: true, histogramBucketOverrides: { aac_turn_queued_messages: [0, 1, 2, 5, 10, 20, 50, 100] } };
}
