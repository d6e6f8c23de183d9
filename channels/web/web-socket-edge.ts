/**
 * The web channel's Socket.IO server, on the API's own HTTP(S) server at Socket.IO's default path `/socket.io/`
 * (protocol: channels/web/protocol.ts). The handshake is authenticated, each connection is served by a session, and
 * the conversations' readers are shared in this process.
 *
 * Several replicas: Socket.IO's Redis streams adapter (on the API's Redis, under the project's key prefix) keeps each
 * connection's session and the events sent to it, so a client that reconnects within two minutes, to any replica,
 * is recovered: its missed events are replayed and it follows what it followed. Every event is sent to one socket
 * by the replica that holds that socket (conversation-feeds.ts), never broadcast to a room: each replica reads the
 * conversations its own sockets follow, so a broadcast through the adapter would reach a socket once per replica.
 * (Polling clients behind a load balancer need sticky sessions, as Socket.IO always does; WebSocket ones do not.)
 */
import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server, type Socket } from 'socket.io';
import type { AppConfig } from '../../lib/config';
import type { Redis } from '../../lib/redis';
import type { FeedDeps } from './conversation-feed';
import { ConversationFeeds } from './conversation-feeds';
import { authenticateHandshake, type HandshakeDeps } from './handshake';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from './protocol';
import { serveSocket, type SessionDeps } from './socket-session';

export type EdgeSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface WebSocketEdgeDeps extends HandshakeDeps, Omit<SessionDeps, 'feeds' | 'conversations'> {
  config: Pick<AppConfig, 'api' | 'redis'>;
  conversations: SessionDeps['conversations'] & FeedDeps['conversations'];
  /** The API's client: the adapter publishes with it and reads on copies of it. */
  redis: Redis;
}

export interface WebSocketEdge {
  /**
   * Closes every connection (their sessions are kept, for clients to recover on another replica or after a restart)
   * and stops reading. The HTTP server is not closed here: that is the API's, which drains its requests first.
   */
  close(): void;
}

/** How long a dropped connection may take to come back and be recovered (Socket.IO's default). */
const recoveryWindowMs = 2 * 60_000;
/**
 * The adapter's blocking read of its stream, kept below the Redis client's 5 s command timeout (which its copies
 * inherit), so that an idle read ends on its own instead of as a timeout error.
 */
const adapterReadBlockMs = 2000;

export function startWebSocketEdge(server: HttpServer, deps: WebSocketEdgeDeps): WebSocketEdge {
  const { config, redis } = deps;
  const logger = deps.logger.child({ channel: 'web' });
  const prefix = `${config.redis.keyPrefix}socket.io`;
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(server, {
    // The page bundles its own client.
    serveClient: false,
    // Room for the longest text accepted, however it is escaped (at most 6 bytes a character), and its envelope: a
    // text that is too long is refused in the ack (422) instead of the connection being dropped.
    maxHttpBufferSize: config.api.maxTextChars * 6 + 4096,
    // Middlewares run on a recovered connection too: its token may have expired while it was away.
    connectionStateRecovery: { maxDisconnectionDuration: recoveryWindowMs, skipMiddlewares: false },
    adapter: createAdapter(handledClient(redis), {
      streamName: prefix,
      channelPrefix: prefix,
      sessionKeyPrefix: `${prefix}:session:`,
      blockTimeInMs: adapterReadBlockMs,
    }),
  });
  const feeds = new ConversationFeeds({ conversations: deps.conversations, logger });
  io.use(authenticateHandshake({ ...deps, logger }));
  io.on('connection', (socket) => serveSocket(socket, { ...deps, feeds, logger }));
  return {
    close() {
      // Not awaited: io.close() ends by closing the HTTP server and waiting for it, which is the API's to do.
      void io.close();
      feeds.close();
    },
  };
}

/**
 * The adapter leaves some of its commands' promises unawaited (heartbeats, sessions saved at a disconnect): while
 * Redis is away, or after the API closed its client, each would be an unhandled rejection. Every promise a command
 * returns gets a handler here; a caller that awaits it still sees the error. Its copies (duplicate()) likewise.
 */
function handledClient<T extends object>(client: T): T {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (result instanceof Promise) result.catch(() => undefined);
        else if (property === 'duplicate' && typeof result === 'object' && result !== null) return handledClient(result);
        return result;
      };
    },
  });
}
