/**
 * Free TCP ports for servers that cannot bind port 0 and report back (child processes such as the Temporal
 * dev server or MinIO, the SDK core's metrics exporter). A port is free when this returns; another process could take it first, rarely.
 * @example const [grpc, ui] = await freePorts(2);
 */
import { createServer, type Server } from 'node:net';

/** `count` distinct free ports: all are held open together, so none repeats. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen(host)));
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

function listen(host: string, port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * `size` consecutive free ports (a server that derives its other ports from its first, like Temporal's), below
 * 32768: under Linux's ephemeral range, and within Temporal's membership table (ports are a PostgreSQL smallint).
 */
export async function freePortBlock(size: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * (32_767 - size - 10_000));
    const held = await Promise.allSettled(Array.from({ length: size }, (_, i) => listen(host, base + i)));
    await Promise.all(held.map((r) => r.status === 'fulfilled' && new Promise((resolve) => r.value.close(resolve))));
    if (held.every((r) => r.status === 'fulfilled')) return base;
  }
  throw new Error(`no ${size} consecutive free ports found`);
}
