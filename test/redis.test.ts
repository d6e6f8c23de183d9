import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../lib/errors';
import { createRedis, pingRedis } from '../lib/redis';
import { freePort } from '../lib/free-ports';
import { testServices } from './support/services';

describe('createRedis', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let silentPort: number;

  beforeAll(async () => {
    // Accepts connections and never answers: a Redis that hangs rather than refusing.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('when Redis answers then ping resolves', async () => {
    const redis = createRedis(testServices().redisUrl);
    try {
      await expect(pingRedis(redis)).resolves.toBeUndefined();
    } finally {
      redis.disconnect();
    }
  });

  it('when nothing listens then commands fail instead of waiting for Redis to come back', async () => {
    const redis = createRedis(`redis://127.0.0.1:${await freePort()}`);
    try {
      await expect(redis.get('anything')).rejects.toThrow();
      await expect(pingRedis(redis)).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      redis.disconnect();
    }
  });

  it('when Redis accepts connections but never answers then commands fail after the command timeout', async () => {
    const redis = createRedis(`redis://127.0.0.1:${silentPort}`, { commandTimeoutMs: 200 });
    try {
      await expect(redis.get('anything')).rejects.toThrow(/timed out/);
    } finally {
      redis.disconnect();
    }
  });
});
