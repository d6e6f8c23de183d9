/**
 * A round-robin TCP balancer: one port in front of several API replicas, as a load balancer is in production.
 * Each new connection goes to the next replica; one that refuses it (restarting) is skipped for the next, so a
 * replica that dies costs its own open connections only.
 * @example const balancer = await startBalancer(3000, [3101, 3102]); … await balancer.close();
 */
import { connect, createServer, type Socket } from 'node:net';

export interface Balancer {
  close(): Promise<void>;
}

export async function startBalancer(port: number, upstreams: readonly number[], host = '0.0.0.0'): Promise<Balancer> {
  let next = 0;
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const forward = (client: Socket, tries: number) => {
    const upstreamPort = upstreams[next++ % upstreams.length]!;
    const upstream = connect(upstreamPort, '127.0.0.1');
    track(upstream);
    let connected = false;
    upstream.on('error', () => {
      if (!connected && tries > 1 && !client.destroyed) forward(client, tries - 1);
      else client.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  };

  const server = createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    client.on('error', () => client.destroy());
    forward(client, upstreams.length);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
