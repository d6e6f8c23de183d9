/**
 * A local Redis Cluster of three masters (no replicas) from the machine's redis-server and redis-cli, in memory,
 * on free ports: what `REDIS_CLUSTER_NODES` points at in the cluster tests.
 * @example const cluster = await startRedisCluster(); // cluster.nodes: ['127.0.0.1:41001', …]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnChild, type ChildHandle } from '../../scripts/child-process';
import { onPath } from '../../scripts/provision';
import { waitUntil } from '../../scripts/wait-until';
import { freePorts } from '../../lib/free-ports';

const run = promisify(execFile);

export interface RedisCluster {
  /** `host:port` of every master. */
  nodes: string[];
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const [server, cli] = ['redis-server', 'redis-cli'].map((name) => onPath(name, process.env));
  if (!server || !cli) throw new Error('Redis Cluster tests need redis-server and redis-cli (Debian: apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'aac-redis-cluster-'));
  const ports = await freePorts(masters);
  const children: ChildHandle[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => child.stop(5_000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const args = [
        '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--loglevel', 'warning',
      ];
      children.push(spawnChild(`redis-${port}`, server, args, { log: () => undefined, quietWhenStopping: true }));
    }
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    const ping = (port: number) => run(cli, ['-p', String(port), 'ping']).then(({ stdout }) => stdout.includes('PONG'));
    for (const port of ports) await waitUntil(`redis-server on ${port}`, () => ping(port), { timeoutMs: 15_000 });
    await run(cli, ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    const ready = (port: number) => run(cli, ['-p', String(port), 'cluster', 'info']).then(({ stdout }) => stdout.includes('cluster_state:ok'));
    for (const port of ports) await waitUntil(`cluster state on ${port}`, () => ready(port), { timeoutMs: 30_000 });
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
