/**
 * The drill's private world: its own Temporal dev server (SQLite file, so a restart keeps every workflow), Redis
 * (append-only file, so a restart keeps the event streams), MinIO, a local OpenAI-compatible model server, a local
 * Telegram Bot API server (when Telegram users take part), and the stack (workers + API) attached to them. Every process here was started by the drill, so its fault injectors
 * never touch anything else on the machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createRedis } from '../../lib/redis';
import { searchAttributes } from '../../lib/search-attributes';
import { startOpenAiServer, type OpenAiServer } from '../simulators/openai-server';
import { freePorts } from '../../lib/free-ports';
import { startTelegramServer, type TelegramServer } from '../simulators/telegram-server';
import type { ChildHandle } from '../child-process';
import { driverEnv } from '../dev-credentials';
import { startMinio } from '../minio-server';
import { findMinio, findTemporalCli } from '../provision';
import { startRedisServer } from '../redis-server';
import { startStack, type StackHandle } from '../stack';
import { startDevServer } from '../temporal-dev-server';
import { drillAnswer } from './markers';

/** A service the drill can take down and bring back. */
export interface Restartable {
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface Infrastructure {
  stack: StackHandle;
  model: OpenAiServer;
  temporal: Restartable;
  redis: Restartable;
  archive: Restartable;
  /** Present when the drill was started with Telegram users: the stack's bot talks to it. */
  telegram?: TelegramServer;
  /** The engine's `tg:uncertain-sends` counter (0 when never counted; null when Redis could not be read). */
  uncertainSends(): Promise<number | null>;
  stop(): Promise<void>;
}

const credentials = { accessKeyId: 'chaos-access-key', secretAccessKey: 'chaos-secret-key' };
const graceMs = 10_000;
/** The stack's Redis key prefix, set here so the drill knows where the engine's counters are. */
const keyPrefix = 'chaos:';

export interface InfrastructureOptions {
  dir: string;
  workers: number;
  /** Start the local Telegram server and give the stack a bot on it. */
  telegram: boolean;
  log: (line: string) => void;
}

export async function startInfrastructure(options: InfrastructureOptions): Promise<Infrastructure> {
  const { dir, log } = options;
  for (const sub of ['minio', 'redis']) mkdirSync(join(dir, sub), { recursive: true });
  const [temporalPort, redisPort, minioPort, apiPort] = (await freePorts(4)) as [number, number, number, number];
  const [cli, minioBinary] = await Promise.all([findTemporalCli({ log }), findMinio({ log })]);
  const started: { name: string; stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const item of started.reverse()) await item.stop().catch(() => undefined);
  };

  try {
    const temporal = restartable('temporal', started, async (first) => {
      const server = await startDevServer({
        cli,
        port: temporalPort,
        dbFile: join(dir, 'temporal.db'),
        fast: true,
        // The start flag only works on a fresh database; the restarted server keeps them in its file.
        searchAttributes: first ? searchAttributes : {},
        log,
      });
      return server.child;
    });
    const redis = restartable('redis', started, async () =>
      (await startRedisServer({ port: redisPort, dir: join(dir, 'redis'), log })).child,
    );
    const archive = restartable('archive', started, async () =>
      (await startMinio({ binary: minioBinary, port: minioPort, dataDir: join(dir, 'minio'), credentials, log })).child,
    );
    await Promise.all([temporal.start(), redis.start(), archive.start()]);

    // A little delay per streamed chunk, so a killed worker is often in the middle of a stream.
    const model = await startOpenAiServer({ delayMs: 20, answer: drillAnswer });
    started.push({ name: 'model', stop: () => model.close() });
    // Never faulted: Telegram itself stays up; what the drill measures is the engine around it.
    const telegram = options.telegram ? await startTelegramServer() : undefined;
    if (telegram) started.push({ name: 'telegram', stop: () => telegram.close() });
    const modelFile = join(dir, 'model.yaml');
    writeFileSync(
      modelFile,
      stringify({ providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model', timeout: '5s' }] }),
    );

    const stack = await startStack({
      devServer: false,
      port: apiPort,
      workers: options.workers,
      log,
      env: {
        TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        REDIS_KEY_PREFIX: keyPrefix,
        S3_ENDPOINT: `http://127.0.0.1:${minioPort}`,
        S3_BUCKET: 'chaos',
        S3_ACCESS_KEY_ID: credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        MODEL_CONFIG: modelFile,
        DATA_DIR: dir,
        LOG_LEVEL: 'warn',
        // No metrics ports: beside a running `npm start` the default ones are taken.
        METRICS_PORT: 'off',
        // Set (to the drill's server, or to nothing) either way: a token in the caller's environment must not
        // send the drill's replies to the real Telegram.
        TELEGRAM_BOT_TOKEN: telegram?.token ?? '',
        TELEGRAM_BOT_TOKEN_FILE: '',
        TELEGRAM_API_ROOT: telegram?.apiRoot ?? '',
        TELEGRAM_WEBHOOK_URL: '',
        ...driverEnv,
      },
    });
    started.push({ name: 'stack', stop: () => stack.stop() });
    const uncertainSends = () => readCounter(`redis://127.0.0.1:${redisPort}`, `${keyPrefix}tg:uncertain-sends`);
    return { stack, model, temporal, redis, archive, ...(telegram ? { telegram } : {}), uncertainSends, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function readCounter(url: string, key: string): Promise<number | null> {
  const client = createRedis(url, { commandTimeoutMs: 3000 });
  try {
    return Number((await client.get(key)) ?? 0);
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

/** Wraps a child-process service so it can be stopped and started again on the same port and data. */
function restartable(
  name: string,
  started: { name: string; stop(): Promise<unknown> }[],
  spawn: (first: boolean) => Promise<ChildHandle>,
): Restartable {
  let child: ChildHandle | undefined;
  let first = true;
  started.push({ name, stop: async () => child?.stop(graceMs) });
  return {
    async start() {
      child = await spawn(first);
      first = false;
    },
    async stop() {
      await child?.stop(graceMs);
      child = undefined;
    },
  };
}
