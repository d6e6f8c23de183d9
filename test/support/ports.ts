/**
 * Free TCP ports for servers that cannot bind port 0 and report back (child processes such as the Temporal
 * dev server or MinIO). A port is free when this returns; another process could take it first, rarely.
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

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}
