/**
 * The scale-out profile on one machine (`npm run start:cluster`): Temporal's real server on PostgreSQL (a private
 * instance under `<data>/cluster/postgres`, or DATABASE_URL), its web UI, then the usual stack attached to it with
 * several workers and API replicas behind one port. Launch tooling: reads DATABASE_URL and TEMPORAL_HISTORY_SHARDS.
 * @example const cluster = await startCluster({ workers: 2, apiReplicas: 2 }); … await cluster.stop();
 */
import { join } from 'node:path';
import { loadConfig } from '../lib/config';
import { searchAttributes } from '../lib/search-attributes';
import { describeExit, type ChildHandle } from './child-process';
import { startPostgres } from './postgres-server';
import { findTemporalCli, findTemporalServer, findTemporalSqlTool, findTemporalUiServer } from './provision';
import { startStack, uiCodecEndpoint, type StackHandle, type StackOptions } from './stack';
import { startTemporalServer, type Database } from './temporal-server';
import { startUiServer } from './temporal-ui-server';

export interface ClusterOptions extends Omit<StackOptions, 'devServer'> {
  /** The private PostgreSQL's port when DATABASE_URL is unset (default 5433, beside the machine's own 5432). */
  postgresPort?: number;
  /** History shards of a new database (default TEMPORAL_HISTORY_SHARDS, else 4). */
  historyShards?: number;
}

export async function startCluster(options: ClusterOptions = {}): Promise<StackHandle> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = { ...process.env, ...options.env };
  const config = loadConfig(env, options.root);
  const dir = join(config.stack.dataDir, 'cluster');
  const temporalPort = options.temporalPort ?? 7233;
  const uiPort = options.temporalUiPort ?? 8233;
  const historyShards = options.historyShards ?? positive(env, 'TEMPORAL_HISTORY_SHARDS', 4);
  const grace = options.stopGraceMs ?? 15_000;
  const infrastructure: ChildHandle[] = []; // started in order, stopped in reverse
  const stopInfrastructure = async () => {
    const order = infrastructure.reverse();
    if (order.length > 0) log(`[cluster] stopping ${order.map((child) => child.name).join(', ')}…`);
    for (const child of order) await child.stop(grace);
    log('[cluster] stopped');
  };

  let stack: StackHandle;
  try {
    let database: Database;
    if (env.DATABASE_URL) {
      database = databaseFromUrl(env.DATABASE_URL);
      log(`[cluster] using PostgreSQL at ${database.host}:${database.port} (DATABASE_URL)`);
    } else {
      const postgres = await startPostgres({
        dir: join(dir, 'postgres'),
        port: options.postgresPort ?? 5433,
        user: 'temporal',
        log,
        detached: true,
        signal: options.signal,
      });
      infrastructure.push(postgres.child);
      database = { host: postgres.host, port: postgres.port, user: postgres.user, name: 'temporal' };
      log(`[cluster] PostgreSQL on ${postgres.host}:${postgres.port}, data in ${postgres.dir}`);
    }
    const binaries = {
      server: await findTemporalServer({ env, log }),
      sqlTool: await findTemporalSqlTool({ env, log }),
      cli: await findTemporalCli({ env, log }),
    };
    log(`[cluster] starting Temporal's server (${binaries.server}, ${historyShards} history shards)`);
    const temporal = await startTemporalServer({
      binaries,
      dir: join(dir, 'temporal'),
      database,
      port: temporalPort,
      historyShards,
      namespace: config.temporal.namespace,
      searchAttributes,
      log,
      detached: true,
      readyTimeoutMs: options.readyTimeoutMs,
      signal: options.signal,
    });
    infrastructure.push(temporal.child);
    const ui = await startUiServer({
      binary: await findTemporalUiServer({ env, log }),
      dir: join(dir, 'ui'),
      port: uiPort,
      temporalAddress: temporal.address,
      namespace: config.temporal.namespace,
      codecEndpoint: uiCodecEndpoint(config),
      log,
      detached: true,
      signal: options.signal,
    });
    infrastructure.push(ui.child);
    stack = await startStack({
      ...options,
      log,
      env: { ...options.env, TEMPORAL_ADDRESS: temporal.address },
      devServer: false,
      // WORKERS as the config validated it; unset, the profile's own default.
      workers: options.workers ?? (env.WORKERS ? config.stack.workers : 2),
      apiReplicas: options.apiReplicas ?? positive(env, 'API_REPLICAS', 2),
    });
    stack.urls.temporalUi = ui.url;
  } catch (error) {
    await stopInfrastructure();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  let settle: (reason: Error | undefined) => void = () => {};
  const stopped = new Promise<Error | undefined>((resolve) => (settle = resolve));
  const stop = (reason?: Error) => {
    stopping ??= stack
      .stop()
      .then(stopInfrastructure)
      .then(() => settle(reason));
    return stopping;
  };
  void stack.stopped.then((reason) => reason && void stop(reason));
  for (const child of infrastructure) {
    void child.exited.then((exit) => {
      if (!stopping) void stop(new Error(`${child.name} exited unexpectedly (${describeExit(exit)})`));
    });
  }
  return { ...stack, stop: () => stop(), stopped };
}

/** A launcher setting given as a positive whole number, or `fallback` when unset. */
function positive(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = env[name];
  if (!value) return fallback;
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${name}=${value}: expected a positive whole number`);
  return Number(value);
}

/** postgres://user:password@host:port/database (database default `temporal`; visibility is `<database>_visibility`). */
function databaseFromUrl(url: string): Database {
  const parsed = new URL(url);
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error(`DATABASE_URL must be a postgres:// URL, not ${parsed.protocol}`);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: decodeURIComponent(parsed.password) || undefined,
    name: parsed.pathname.slice(1) || 'temporal',
  };
}
