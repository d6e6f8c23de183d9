/**
 * An in-process engine for one suite: a worker and the API against the shared test Temporal server,
 * Redis and MinIO, isolated by a unique task queue, Redis key prefix and bucket (so suites run in parallel).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { stringify } from 'yaml';
import { start as startApi, type ApiHandle } from '../../api/main';
import type { Role } from '../../lib/auth';
import { keyRingOf, loadConfig, type AppConfig } from '../../lib/config';
import { createRedis, type Redis } from '../../lib/redis';
import { dataConverterFor } from '../../lib/temporal';
import { start as startWorker } from '../../workers/main';
import { bundleWorkflows } from '../../workers/workflow-bundle';
import { testServices } from './services';
import { bearer } from './tokens';

export interface EngineOptions {
  /** Overrides for config/app.yaml, snake_case as in the file (e.g. `{ conversation: { idle_timeout: '2s' } }`). */
  app?: Record<string, unknown>;
  /** Providers for model.yaml (snake_case as in the file); none → the dev echo provider. */
  providers?: Record<string, unknown>[];
  archive?: 's3' | 'directory';
  /** Defaults: the shared test Temporal server and Redis. */
  temporalAddress?: string;
  redisUrl?: string;
  /** false: start only the API (for suites that take dependencies away). */
  worker?: boolean;
  /** More environment, e.g. ENCRYPTION_KEYS. */
  env?: Record<string, string>;
}

/** A fetch Response whose JSON body tests may read without casting. */
export type JsonResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface Engine {
  config: AppConfig;
  /** The environment it runs with (testEnvironment's, with the suite's additions): a second process can share it. */
  env: Record<string, string>;
  api: ApiHandle;
  temporal: Client;
  redis: Redis;
  /** Client-facing id → workflow id, as the API maps it for the anonymous user. */
  workflowId(clientId: string): string;
  /** Headers that sign requests in as `user` (post and get sign in as `anonymous` unless given an authorization). */
  as(user: string, role?: Role): Promise<Record<string, string>>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<JsonResponse>;
  get(path: string, headers?: Record<string, string>): Promise<JsonResponse>;
  delete(path: string, headers?: Record<string, string>): Promise<JsonResponse>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

// The SDK's worker lifecycle chatter would drown test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test file: bundling takes seconds, and every worker in the file can share it. */
export function sharedWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflows(quietLogger, { tracing: false });
  return bundle;
}

/**
 * Environment for one isolated engine: temp app.yaml/model.yaml, unique task queue, key prefix and bucket.
 * Used for in-process engines and for child processes of the dev stack alike.
 */
export function testEnvironment(options: EngineOptions = {}): Record<string, string> {
  const services = testServices();
  const id = randomUUID().slice(0, 8);
  const dir = mkdtempSync(join(tmpdir(), `aac-${id}-`));
  writeFileSync(join(dir, 'app.yaml'), stringify(options.app ?? {}));
  writeFileSync(join(dir, 'model.yaml'), stringify({ providers: options.providers ?? [] }));
  const archiveEnv: Record<string, string> =
    options.archive === 'directory'
      ? { ARCHIVE_DIR: join(dir, 'archive') }
      : {
          S3_ENDPOINT: services.s3.endpoint,
          S3_BUCKET: `test-${id}`,
          S3_REGION: services.s3.region,
          S3_ACCESS_KEY_ID: services.s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
        };
  return {
    APP_CONFIG: join(dir, 'app.yaml'),
    MODEL_CONFIG: join(dir, 'model.yaml'),
    TEMPORAL_ADDRESS: options.temporalAddress ?? services.temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${id}`,
    REDIS_URL: options.redisUrl ?? services.redisUrl,
    REDIS_KEY_PREFIX: `test-${id}:`,
    PORT: '0',
    API_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: dir,
    AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
    // Suites send faster than people do; the limits' own suite sets its own.
    RATE_LIMIT_MESSAGES_PER_MINUTE: '100000',
    RATE_LIMIT_CONVERSATIONS_PER_HOUR: '100000',
    RATE_LIMIT_TOKENS_PER_DAY: '1000000000',
    RATE_LIMIT_STREAMS_PER_USER: '1000',
    CODEC_LISTEN: '127.0.0.1:0', // suites run side by side: never the default port
    METRICS_PORT: '0',
    ...archiveEnv,
    ...options.env,
  };
}

export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
  const services = testServices();
  const env = testEnvironment(options);
  const config = loadConfig(env);
  const workflowBundle = await sharedWorkflowBundle();
  let worker = options.worker === false ? undefined : await startWorker({ config, workflowBundle });
  const api = await startApi(config);
  // Lazy: suites that point the engine at an unreachable Temporal still get one.
  const connection = Connection.lazy({ address: config.temporal.address });
  const temporal = new Client({ connection, dataConverter: dataConverterFor(keyRingOf(config)) });
  const redis = createRedis(services.redisUrl);
  const anonymous = env.AUTH_JWT_SECRET ? await bearer(env) : {}; // none when a suite uses an identity provider's keys
  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> =>
    fetch(`${api.url}${path}`, {
      method,
      headers: { ...anonymous, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  return {
    config,
    env,
    api,
    temporal,
    redis,
    workflowId: (clientId) => `api:anonymous:${clientId}`,
    as: (user, role) => bearer(env, user, role),
    post: (path, body, headers) => request('POST', path, body, headers),
    get: (path, headers) => request('GET', path, undefined, headers),
    delete: (path, headers) => request('DELETE', path, undefined, headers),
    async stopWorker() {
      await worker?.stop();
      worker = undefined;
    },
    async startWorker() {
      worker ??= await startWorker({ config, workflowBundle });
    },
    async stop() {
      await api.stop();
      await worker?.stop();
      await connection.close();
      redis.disconnect();
      rmSync(env.DATA_DIR!, { recursive: true, force: true });
    },
  };
}

/** For the bundler: its progress is noise in test output; its errors are not. */
export const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};
