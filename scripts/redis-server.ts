/**
 * Redis for machines that have none running: the launcher and the test setup start Debian's `redis-server`
 * when nothing answers, instead of failing. With `dir`, it persists (append-only file) there.
 */
import { Redis } from 'ioredis';
import { spawnChild, type ChildHandle } from './child-process';
import { onPath } from './provision';
import { waitUntil } from './wait-until';

/** The reason Redis at `url` does not answer PING, or undefined when it does. */
export async function redisProblem(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause = error)); // the connect error itself, not "Connection is closed"
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return (cause ?? (error as Error)).message;
  } finally {
    redis.disconnect();
  }
}

export interface RedisServerOptions {
  port: number;
  /** Persist an append-only file here; omitted means in memory only. */
  dir?: string;
  log: (line: string) => void;
  detached?: boolean;
}

/** Starts `redis-server` on 127.0.0.1 and resolves once it answers; throws with the fix when it is not installed. */
export async function startRedisServer(options: RedisServerOptions): Promise<{ url: string; child: ChildHandle }> {
  const binary = onPath('redis-server', process.env);
  if (!binary) {
    throw new Error('no Redis answers and redis-server is not installed: `apt-get install redis-server`, or set REDIS_URL');
  }
  const url = `redis://127.0.0.1:${options.port}`;
  const persistence = options.dir ? ['--dir', options.dir, '--appendonly', 'yes'] : ['--appendonly', 'no'];
  const args = ['--bind', '127.0.0.1', '--port', String(options.port), '--save', '', '--loglevel', 'warning', ...persistence];
  const child = spawnChild('redis', binary, args, { log: options.log, detached: options.detached, quietWhenStopping: true });
  try {
    await waitUntil(`redis-server on ${url}`, async () => (await redisProblem(url)) === undefined, {
      timeoutMs: 15_000,
      failFast: () => (child.running() ? undefined : 'the process ended; see the [redis] lines above'),
    });
  } catch (error) {
    await child.stop(2_000);
    throw error;
  }
  return { url, child };
}
