/**
 * A small pool of connections for blocking reads. A connection blocked in `XREAD BLOCK` cannot serve anything
 * else, so each concurrent blocking read gets a connection of its own; finished ones are kept for the next read
 * instead of reconnecting every time (an SSE stream reads again every few seconds).
 */
import type { Logger } from './logger';
import { duplicateForBlocking, type Redis } from './redis';

export class BlockingConnections {
  private readonly idle: Redis[] = [];
  private readonly busy = new Set<Redis>();
  private closed = false;

  /**
   * @param redis the shared client; connections copy its options, and all are closed when it ends (`quit()`),
   *   so whoever owns the client needs nothing more for shutdown.
   * @param maxIdle connections kept open between reads; more are opened when more readers block at once.
   */
  constructor(
    private readonly redis: Redis,
    private readonly maxIdle = 4,
    private readonly logger?: Logger,
  ) {
    redis.once('end', () => this.close());
  }

  /** Runs `read` on a connection nobody else is using right now. */
  async use<T>(read: (connection: Redis) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('Connection is closed.');
    const connection = this.idle.pop() ?? duplicateForBlocking(this.redis, this.logger);
    this.busy.add(connection);
    let reusable = false;
    try {
      const result = await read(connection);
      reusable = true;
      return result;
    } finally {
      this.busy.delete(connection);
      // After a failure the connection may still be blocked on the server: never hand it to another reader.
      if (reusable && !this.closed && connection.status === 'ready' && this.idle.length < this.maxIdle) {
        this.idle.push(connection);
      } else {
        connection.disconnect();
      }
    }
  }

  /** Closes every connection; reads in progress reject, so a shutdown does not wait out their `BLOCK`. */
  close(): void {
    this.closed = true;
    for (const connection of [...this.idle.splice(0), ...this.busy]) connection.disconnect();
  }
}
