/**
 * vitest globalSetup: the real servers every suite talks to, started once per run and handed out through
 * `project.provide('services', …)` (suites read them with testServices()). Temporal dev server (in memory,
 * fast SQLite pragmas, search attributes registered at start) and MinIO run as child processes on free ports;
 * Redis: REDIS_URL, else 127.0.0.1:6379, else a private redis-server started here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { searchAttributes } from '../../lib/search-attributes';
import type { ChildHandle } from '../../scripts/child-process';
import { startMinio } from '../../scripts/minio-server';
import { findMinio, findTemporalCli } from '../../scripts/provision';
import { redisProblem, startRedisServer } from '../../scripts/redis-server';
import { startDevServer } from '../../scripts/temporal-dev-server';
import { freePorts } from '../../lib/free-ports';
import type { TestServices } from './services';

const s3Credentials = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key' };
const log = (line: string) => process.stderr.write(`${line}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await ensureRedis();
  const redisUrl = redis.url;
  const temporalCliPath = await findTemporalCli({ log });
  const minioPath = await findMinio({ log });
  const [temporalPort, minioPort] = (await freePorts(2)) as [number, number];
  const minioDir = await mkdtemp(join(tmpdir(), 'aac-test-minio-'));

  const results = await Promise.allSettled([
    startDevServer({
      cli: temporalCliPath,
      port: temporalPort,
      fast: true,
      searchAttributes,
      log,
      readyTimeoutMs: 60_000,
    }).then((server) => server.child),
    startMinio({ binary: minioPath, port: minioPort, dataDir: minioDir, credentials: s3Credentials, log }).then((m) => m.child),
  ]);
  const children = [...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])), ...(redis.child ? [redis.child] : [])];
  const teardown = async () => {
    await Promise.all(children.map((child) => child.stop(5_000)));
    await rm(minioDir, { recursive: true, force: true });
  };
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await teardown();
    throw failed.reason;
  }

  const services: TestServices = {
    temporalAddress: `127.0.0.1:${temporalPort}`,
    temporalCliPath,
    redisUrl,
    s3: { endpoint: `http://127.0.0.1:${minioPort}`, region: 'us-east-1', ...s3Credentials },
  };
  project.provide('services', services);
  log(
    `[global-setup] Temporal dev server ${services.temporalAddress} (${temporalCliPath}), ` +
      `MinIO ${services.s3.endpoint} (${minioPath}), Redis ${redisUrl}`,
  );
  return teardown;
}

/** The Redis at REDIS_URL (default 127.0.0.1:6379), or a private in-memory redis-server when none answers. */
async function ensureRedis(): Promise<{ url: string; child?: ChildHandle }> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const problem = await redisProblem(url);
  if (!problem) return { url };
  if (process.env.REDIS_URL) throw new Error(`Redis at REDIS_URL=${url} does not answer PING (${problem})`);
  log(`[global-setup] no Redis at ${url} (${problem}); starting a private redis-server`);
  return startRedisServer({ port: (await freePorts(1))[0]!, log });
}
