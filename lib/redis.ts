/**
 * Redis clients tuned for a service that must answer "unavailable" rather than hang when Redis is down.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { UnavailableError } from './errors';
import { withTimeout } from './with-timeout';
import type { Logger } from './logger';

export type { Redis };

export interface RedisClientOptions {
  /** Fail a command that gets no reply within this long, queued or sent (default 5000 ms). */
  commandTimeoutMs?: number;
  /** Give up on one connection attempt after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Reconnect attempts a command waits through before it fails (default 1). */
  maxRetriesPerRequest?: number;
  /** Shown in `CLIENT LIST`, so an operator can tell the API's connections from the workers'. */
  connectionName?: string;
  /** Receives connection errors; without it they are dropped (commands still reject). */
  logger?: Logger;
  /** Counts connection errors (`aac_redis_errors_total`). */
  errors?: { inc(): void };
}

/**
 * Creates a client for ordinary (non-blocking) commands. Keys are not prefixed here: stores add their own prefix.
 *
 * @example
 * const redis = createRedis(config.redis.url, { connectionName: 'api', logger });
 * await pingRedis(redis);
 */
export function createRedis(url: string, options: RedisClientOptions = {}): Redis {
  const redis = new Redis(url, clientOptions(options));
  logErrors(redis, options);
  return redis;
}

/**
 * A client for the configured Redis: a single server (`url`), or a Redis Cluster when `clusterNodes` names some of
 * its nodes (credentials from `url`). Typed as a single server's client: every command this project sends works on
 * both, because each multi-key script or transaction names keys of one hash tag.
 * @example const redis = connectRedis(config.redis, { connectionName: 'worker', logger });
 */
export function connectRedis(target: { url: string; clusterNodes: readonly string[] }, options: RedisClientOptions = {}): Redis {
  if (target.clusterNodes.length === 0) return createRedis(target.url, options);
  const { username, password } = new URL(target.url);
  const cluster = new Cluster(
    target.clusterNodes.map((node) => {
      const [host, port] = node.split(':');
      return { host: host!, port: Number(port) };
    }),
    {
      redisOptions: { ...clientOptions(options), ...(username ? { username } : {}), ...(password ? { password: decodeURIComponent(password) } : {}) },
      // As for a single server: queue commands through a brief reconnect, never wait long between tries.
      enableOfflineQueue: true,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    },
  );
  logErrors(cluster, options);
  return cluster as unknown as Redis;
}

function clientOptions(options: RedisClientOptions): RedisOptions {
  return {
    connectTimeout: options.connectTimeoutMs ?? 5000,
    // The default (20 reconnects) keeps a request waiting for a minute or more while Redis is down; one reconnect
    // is enough to ride out a failover blip, and then the caller gets an error it can turn into a 503.
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 1,
    // Kept on so commands issued during start-up or a brief reconnect are not rejected outright;
    // commandTimeout bounds how long a queued command can wait.
    enableOfflineQueue: true,
    // Without it a command sent to a Redis that stopped answering (but kept the socket) waits forever.
    commandTimeout: options.commandTimeoutMs ?? 5000,
    // Keep reconnecting forever (the app recovers on its own when Redis is back), but never wait long between tries.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  };
}

/**
 * A new connection for blocking commands (`XREAD BLOCK`). A blocked connection cannot send anything else, so a
 * blocking read on the shared client would stall every other command behind it. The caller owns the connection
 * and must `disconnect()` it when done.
 *
 * `commandTimeout` is cleared (it would cut a long `BLOCK` short); `blockingTimeout` instead makes the client
 * give up `BLOCK` + 100 ms after the server should have answered, so a dead socket cannot hold a reader forever.
 */
export function duplicateForBlocking(redis: Redis, logger?: Logger): Redis {
  const blocking = { commandTimeout: undefined, blockingTimeout: 60_000 };
  const client: unknown = redis;
  const connection = client instanceof Cluster
    ? (client.duplicate([], { redisOptions: { ...client.options.redisOptions, ...blocking } }) as unknown as Redis)
    : redis.duplicate(blocking);
  logErrors(connection, { logger, connectionName: redis.options?.connectionName });
  return connection;
}

/**
 * Checks that Redis answers, within `timeoutMs` whatever the client's own settings.
 * @throws UnavailableError('redis') when it does not.
 */
export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  try {
    await withTimeout(redis.ping(), timeoutMs, 'PING');
  } catch (error) {
    throw new UnavailableError('redis', { cause: error });
  }
}

function logErrors(redis: Redis | Cluster, { logger, connectionName, errors }: Pick<RedisClientOptions, 'logger' | 'connectionName' | 'errors'>): void {
  let outage = false;
  redis.on('ready', () => {
    if (outage) logger?.info({ connectionName }, 'redis connection restored');
    outage = false;
  });
  redis.on('error', (error: Error) => {
    const fields = { err: error, connectionName };
    errors?.inc();
    if (outage) logger?.debug(fields, 'redis connection error');
    else logger?.warn(fields, 'redis connection error');
    outage = true;
  });
}

/**
 * True for the errors ioredis raises when Redis cannot be reached or stopped answering (as opposed to a
 * command error such as WRONGTYPE): callers turn these into "unavailable, retry later".
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return /Command timed out|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|enableOfflineQueue/.test(error.message);
}

/** A Lua script run by name: keys first, then arguments. */
export type RedisScript<T> = (...keysThenArgs: (string | number)[]) => Promise<T>;

/**
 * Defines `lua` as a command of `redis` and returns it: ioredis sends it by SHA (EVALSHA), and the whole script
 * only when Redis does not know it yet (first use, or after a restart). Idempotent: clients may be shared.
 */
export function defineScript<T>(redis: Redis, name: string, numberOfKeys: number, lua: string): RedisScript<T> {
  redis.defineCommand(name, { numberOfKeys, lua });
  const command = (redis as unknown as Record<string, RedisScript<T>>)[name]!;
  return (...keysThenArgs) => command.call(redis, ...keysThenArgs);
}
