/**
 * Stops an HTTP server without dropping the work in flight and without taking new work it would drop.
 *
 * Node's `server.close()` stops listening and closes the idle connections, but a connection whose request is still
 * being answered is kept alive afterwards and serves the client's next request too: a browser reconnecting its
 * Socket.IO client, or posting its next message, would be served by a process about to stop, and cut off when it
 * does. So while draining, every response in flight closes its connection once written (`Connection: close` when
 * its headers are still to be sent), and once the grace is over every connection left is destroyed, upgraded ones
 * (WebSockets) included, which `server.closeAllConnections()` does not know about.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Node's channel for every request an HTTP server starts answering, with its server and response. */
const requestStarted = 'http.server.request.start';

export class ServerDrain {
  private readonly connections = new Set<Socket>();
  private readonly answering = new Set<ServerResponse>();
  private draining = false;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
    });
    subscribe(requestStarted, this.started);
  }

  /** Stops listening, lets the requests in flight finish for up to `graceMs`, then closes what is left. */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const response of this.answering) lastOnItsConnection(response);
    try {
      const drained = await Promise.race([closed.then(() => true), sleep(graceMs).then(() => false)]);
      if (!drained) for (const connection of this.connections) connection.destroy();
      await closed;
    } finally {
      unsubscribe(requestStarted, this.started);
    }
  }

  private readonly started = (message: unknown) => {
    const { server, response } = message as { server: Server; response: ServerResponse };
    if (server !== this.server) return;
    if (this.draining) return lastOnItsConnection(response);
    this.answering.add(response);
    response.once('close', () => this.answering.delete(response));
  };
}

/** The response closes its connection once written: said in its headers when they are still to be sent. */
function lastOnItsConnection(response: ServerResponse): void {
  if (!response.headersSent) {
    response.shouldKeepAlive = false;
    return;
  }
  const { socket } = response;
  response.once('finish', () => socket?.end());
}
