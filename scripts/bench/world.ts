/**
 * The bench's own stack, set up the way `npm start` runs it: a Temporal dev server on a fresh SQLite file with
 * npm start's settings (scripts/temporal-dev-server.ts), a Redis of its own, the archive in a directory, the
 * worker and API processes of scripts/stack.ts. Or the way `npm run start:cluster` runs it: Temporal's real server
 * on a fresh private PostgreSQL, API replicas behind a balancer. Beside it: a local OpenAI-compatible model that
 * answers at once, and the raw-Temporal floor's worker, on the same server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { searchAttributes } from '../../lib/search-attributes';
import { startOpenAiServer, type OpenAiServer } from '../simulators/openai-server';
import { freePortBlock, freePorts } from '../../lib/free-ports';
import { allocatorEnv } from '../allocator';
import { spawnChild, type ChildHandle } from '../child-process';
import { driverEnv, developmentAuthorization } from '../dev-credentials';
import { startPostgres } from '../postgres-server';
import { findTemporalCli, findTemporalServer, findTemporalSqlTool } from '../provision';
import { startRedisServer } from '../redis-server';
import { startStack, type StackHandle } from '../stack';
import { startDevServer } from '../temporal-dev-server';
import { startTemporalServer } from '../temporal-server';
import { withChildren } from './resources';

export interface World {
  api: string;
  /** `Bearer <token>` of the bench's user (the stack's development token, rewritten at each start). */
  authorization(): string;
  temporalAddress: string;
  redisUrl: string;
  floorTaskQueue: string;
  model: OpenAiServer;
  stack(): StackHandle;
  /** Stops workers and API (the server, Redis and the archive stay). */
  stopStack(): Promise<void>;
  /** Starts workers and API again, with `env` laid over the bench's settings. */
  startStack(env?: Record<string, string>): Promise<void>;
  /** Pids of the processes whose resources the bench reports, by name. */
  pids(): Record<string, number | number[] | undefined>;
  stop(): Promise<void>;
}

export interface WorldOptions {
  dir: string;
  workers: number;
  /** The cluster profile instead of the dev server. */
  cluster?: { historyShards: number; apiReplicas: number };
  log: (line: string) => void;
}

export const benchAnswer = 'A short answer, the same every time, from a model that takes no time at all.';
const graceMs = 15_000;

export async function startWorld(options: WorldOptions): Promise<World> {
  const { dir, log } = options;
  const [redisPort, postgresPort] = (await freePorts(2)) as [number, number];
  const temporalPort = await freePortBlock(9);
  const apiPort = await freePortBlock(103); // the replicas listen at +101, +102, …
  const stoppers: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };
  try {
    const cli = await findTemporalCli({ log });
    const redis = await startRedisServer({ port: redisPort, log });
    stoppers.push(() => redis.child.stop(graceMs));
    let postgres: ChildHandle | undefined;
    let temporal: { address: string; child: ChildHandle };
    if (options.cluster) {
      const pg = await startPostgres({ dir: join(dir, 'postgres'), port: postgresPort, user: 'temporal', log });
      postgres = pg.child;
      stoppers.push(() => pg.child.stop(graceMs));
      temporal = await startTemporalServer({
        binaries: { server: await findTemporalServer({ log }), sqlTool: await findTemporalSqlTool({ log }), cli },
        dir: join(dir, 'temporal'),
        database: { host: pg.host, port: pg.port, user: pg.user, name: 'temporal' },
        port: temporalPort,
        historyShards: options.cluster.historyShards,
        namespace: 'default',
        searchAttributes,
        log,
      });
    } else {
      temporal = await startDevServer({ cli, port: temporalPort, dbFile: join(dir, 'temporal.db'), searchAttributes, log });
    }
    stoppers.push(() => temporal.child.stop(graceMs));
    const model = await startOpenAiServer({ models: ['bench-model'], answer: () => benchAnswer });
    stoppers.push(() => model.close());
    const modelFile = join(dir, 'model.yaml');
    writeFileSync(modelFile, stringify({ providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'bench-model' }] }));

    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: temporal.address,
      REDIS_URL: redis.url,
      MODEL_CONFIG: modelFile,
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      // No metrics ports: beside a running `npm start` the default ones are taken.
      METRICS_PORT: 'off',
      // Telegram stays off whatever the caller's environment says.
      TELEGRAM_BOT_TOKEN: '',
      TELEGRAM_BOT_TOKEN_FILE: '',
      ...driverEnv,
    };
    let stack: StackHandle | undefined;
    const startApps = async (extra: Record<string, string> = {}) => {
      stack = await startStack({
        devServer: false,
        port: apiPort,
        workers: options.workers,
        apiReplicas: options.cluster?.apiReplicas,
        log,
        env: { ...env, ...extra },
      });
    };
    await startApps();
    stoppers.push(() => stack?.stop() ?? Promise.resolve());

    const floorTaskQueue = 'bench-floor';
    const floor: ChildHandle = spawnChild('floor-worker', process.execPath, ['--import', 'tsx', 'scripts/bench/floor/worker.ts'], {
      // The same allocator as the engine's worker (scripts/allocator.ts): the comparison is of the code, not of malloc.
      env: { ...process.env, ...allocatorEnv(process.env), TEMPORAL_ADDRESS: temporal.address, REDIS_URL: redis.url, FLOOR_TASK_QUEUE: floorTaskQueue, FLOOR_MODEL_URL: model.url, FLOOR_MODEL: 'bench-model' },
      log,
    });
    stoppers.push(() => floor.stop(graceMs));

    return {
      api: `http://127.0.0.1:${apiPort}`,
      temporalAddress: temporal.address,
      redisUrl: redis.url,
      floorTaskQueue,
      model,
      stack: () => stack!,
      authorization: () => developmentAuthorization(stack!),
      async stopStack() {
        await stack?.stop();
        stack = undefined;
      },
      startStack: startApps,
      pids() {
        const workers = stack?.workerPids() ?? [];
        const apis = stack?.apiPids() ?? [];
        const replicas = options.cluster?.apiReplicas ?? 1;
        return {
          ...Object.fromEntries(Array.from({ length: options.workers }, (_, i) => [`worker-${i + 1}`, workers[i]])),
          ...(replicas === 1 ? { api: apis[0] } : Object.fromEntries(Array.from({ length: replicas }, (_, i) => [`api-${i + 1}`, apis[i]]))),
          temporal: temporal.child.process.pid,
          ...(postgres?.process.pid ? { postgres: withChildren(postgres.process.pid) } : {}),
          'floor-worker': floor.process.pid,
        };
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
