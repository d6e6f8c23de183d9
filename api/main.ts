/**
 * API process: the composition root that turns config into clients and serves the Hono app.
 * `node --import tsx api/main.ts` runs it; SIGTERM stops it gracefully.
 */
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { AuditLog } from '../lib/audit-log';
import { createVerifier } from '../lib/auth';
import { MessageLimits, StreamLeases } from '../lib/rate-limits';
import { createBlobStore } from '../lib/blob-store';
import { codecAddress, keyRingOf, loadConfig, secretsOf, serviceNameOf, type AppConfig } from '../lib/config';
import { ConversationStore } from '../lib/conversation-store';
import { Conversations } from '../lib/conversations';
import { ConfigError } from '../lib/errors';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { connectRedis, pingRedis } from '../lib/redis';
import { createTextCipher } from '../lib/text-cipher';
import { runAsMain } from '../lib/run-as-main';
import { OverflowCodec } from '../lib/payload-overflow';
import { codecServerCodec, dataConverterFor, temporalConnectionOptions } from '../lib/temporal';
import { TextStore } from '../lib/text-store';
import { startTracing } from '../lib/tracing';
import { TranscriptArchive } from '../lib/transcript-archive';
import { startWebSocketEdge } from '../channels/web/web-socket-edge';
import { createApp } from './app';
import { startCodecServer } from './codec-server';
import { listen } from './listen';
import { startTelegramWebhookServer } from './telegram-webhook-server';
import { WaitingRequests } from '../lib/waiting-requests';

/** How long stop() lets requests in flight finish before it closes their connections. */
const shutdownGraceMs = 5000;

export interface ApiHandle {
  /** The port actually bound (useful with PORT=0). */
  port: number;
  url: string;
  /** The codec server's base URL (`…/codec`), when it runs. */
  codecUrl?: string;
  /** The Telegram webhook's URL on its own port (`telegram.webhook.port`), when it has one. */
  telegramWebhookUrl?: string;
  stop(): Promise<void>;
}

export async function start(config: AppConfig = loadConfig()): Promise<ApiHandle> {
  if (!config.auth.jwtSecret && !config.auth.jwksUrl) {
    throw new ConfigError([
      'AUTH_JWT_SECRET or AUTH_JWKS_URL is required: every /api route needs a bearer token (npm start generates a development secret)',
    ]);
  }
  const logger = createLogger({ level: config.logLevel, name: 'api', service: serviceNameOf(config, 'api'), secrets: secretsOf(config) });
  const tracing = await startTracing(config, 'api', logger);
  const verify = createVerifier(config.auth);
  const ring = keyRingOf(config);
  const cipher = createTextCipher(ring);
  const metrics = createMetrics('api');
  const redis = connectRedis(config.redis, { connectionName: 'api', logger, errors: metrics.delivery.redisErrors });
  const blobs = createBlobStore(config);
  // Lazy: the API starts (and answers /healthz, and 503 elsewhere) even while Temporal is still coming up.
  const connection = Connection.lazy(temporalConnectionOptions(config));
  const overflow = new OverflowCodec(blobs, logger);
  const dataConverter = dataConverterFor(ring, overflow);
  // While tracing is on, signal-with-start carries the request's trace in its headers, on to the workflow and its
  // activities; the interceptors are loaded only then.
  const workflowInterceptors: WorkflowClientInterceptor[] = [];
  if (config.tracing.endpoint) {
    const { OpenTelemetryWorkflowClientInterceptor } = await import('@temporalio/interceptors-opentelemetry');
    workflowInterceptors.push(new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer }));
  }
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter, interceptors: { workflow: workflowInterceptors } });
  // Every waiting POST /chat and every SSE stream blocks a connection of its own: keep enough open between
  // reads that a busy API does not connect and disconnect once per turn.
  const replies = new ConversationStore(redis, config.redis.keyPrefix, { logger, cipher, maxIdleBlockingConnections: 256 });
  const texts = new TextStore(blobs, cipher, logger);
  const auditLog = new AuditLog({ redis, blobs, cipher, logger }, config.redis.keyPrefix);
  const conversations = new Conversations({
    client,
    config,
    store: replies,
    texts,
    archive: new TranscriptArchive(blobs, logger, cipher),
    limits: {
      messages: new MessageLimits(redis, config.redis.keyPrefix, config.limits),
      streams: new StreamLeases(redis, config.redis.keyPrefix, config.limits.streamsPerUser),
      waiting: new WaitingRequests(config.limits.maxWaitingRequests),
    },
    audit: auditLog,
    metrics: metrics.intake,
    logger,
  });
  // Loaded only with a bot token: an API without Telegram does not hold grammY (~3 MB of heap).
  const telegram = config.telegram.token
    ? (await import('../channels/telegram/channel')).startTelegramChannel(config.telegram.token, {
        config, cipher, conversations, redis, tracer: tracing.tracer, logger: logger.child({ channel: 'telegram' }),
      })
    : undefined;
  const app = createApp({
    config,
    verify,
    audit: auditLog,
    logger,
    metrics,
    tracer: tracing.tracer,
    conversations,
    // With a port of its own the webhook is not on the API's.
    ...(telegram?.webhook && !config.telegram.webhook.port ? { telegramWebhook: telegram.webhook } : {}),
    readiness: {
      temporal: () => connection.healthService.check({}),
      redis: () => pingRedis(redis),
      archive: () => blobs.ping(),
    },
  });

  const { tlsCertFile, tlsKeyFile } = config.api;
  const tls = tlsCertFile && tlsKeyFile ? { certFile: tlsCertFile, keyFile: tlsKeyFile } : undefined;
  const api = await listen(app.fetch, config.api.host, config.api.port, tls);
  const { port } = api;
  const local = (at: number) => `${tls ? 'https' : 'http'}://127.0.0.1:${at}`;
  logger.info({ port, https: Boolean(tls) }, 'api listening');
  const listening: Array<() => Promise<unknown>> = [() => api.close()];
  /** A listener beside the API's: if it cannot start, those already listening close and the error says what to change. */
  const beside = async <T extends { close(): Promise<void> }>(what: string, variable: string, address: string, starting: Promise<T>): Promise<T> => {
    const started = await starting.catch(async (error: unknown) => {
      await Promise.all(listening.map((close) => close()));
      throw new Error(`the ${what} cannot listen on ${address} (${(error as Error).message}); set ${variable}`, { cause: error });
    });
    listening.push(() => started.close());
    return started;
  };
  const codecAt = codecAddress(config);
  const codecServer = codecAt
    ? await beside('codec server', 'CODEC_LISTEN to a free host:port, or off', `${codecAt.host}:${codecAt.port}`, startCodecServer({
        ...codecAt,
        // Without a key ring only offloaded payloads need decoding; everything else passes through.
        codec: codecServerCodec(ring, overflow),
        corsOrigins: config.codec.corsOrigins,
        audit: auditLog,
        ...(config.codec.requireToken ? { verify } : {}),
        logger,
      }))
    : undefined;
  const webhookPort = config.telegram.webhook.port;
  const webhookServer = telegram?.webhook && webhookPort !== undefined
    ? await beside('Telegram webhook', 'TELEGRAM_WEBHOOK_PORT to a free port', `${config.api.host}:${webhookPort}`,
        startTelegramWebhookServer(telegram.webhook, { host: config.api.host, port: webhookPort, ...(tls ? { tls } : {}) }, logger))
    : undefined;
  const webSockets = startWebSocketEdge(api.server, { config, verify, conversations, audit: auditLog, redis, logger });

  return {
    port,
    url: local(port),
    ...(codecServer ? { codecUrl: codecServer.url } : {}),
    ...(webhookServer ? { telegramWebhookUrl: `${local(webhookServer.port)}/telegram/webhook` } : {}),
    async stop() {
      await codecServer?.close();
      await webhookServer?.close();
      // Stops listening at once; requests in flight (a chat waiting for its reply) get a moment to finish, open SSE
      // streams never would. Only then are the Socket.IO clients let go: they cannot come back to this process.
      const closed = api.close(shutdownGraceMs);
      webSockets.close(); // its sockets' sessions are kept in Redis, for their clients to recover elsewhere
      await closed;
      await telegram?.stop();
      await connection.close();
      await auditLog.close();
      redis.disconnect();
      await tracing.shutdown();
      logger.info('api stopped');
    },
  };
}

await runAsMain(import.meta.url, () => start());
