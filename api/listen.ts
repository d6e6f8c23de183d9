/**
 * Binds a Hono app to host:port, over HTTPS when certificate files are given (TLS 1.3 only), and resolves once
 * the socket listens. The API, the codec server and the Telegram webhook's own port all start this way.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ServerDrain } from './server-drain';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface Listening {
  server: Server;
  /** The port actually bound (port 0 picks a free one). */
  port: number;
  /** `http://host:port` or `https://host:port`, IPv6 hosts bracketed. */
  origin: string;
  /**
   * Stops listening and gives the requests in flight up to `graceMs` to finish, on connections that are not kept
   * for another request; then closes every connection left (server-drain.ts). Without a grace (listeners without
   * long requests to drain), everything closes at once.
   */
  close(graceMs?: number): Promise<void>;
}

export async function listen(fetch: (request: Request) => Response | Promise<Response>, host: string, port: number, tls?: TlsFiles): Promise<Listening> {
  const https = tls
    ? { createServer: createHttpsServer, serverOptions: { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), minVersion: 'TLSv1.3' as const } }
    : {};
  const server = serve({ fetch, port, hostname: host, ...https }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const drain = new ServerDrain(server);
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { server, port: bound, origin: `${tls ? 'https' : 'http'}://${shownHost}:${bound}`, close: (graceMs = 0) => drain.close(graceMs) };
}
