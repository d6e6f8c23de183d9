/**
 * Socket.IO clients as tests' users: each a connection of its own (a browser tab), signed in with a bearer token,
 * keeping everything the server sends it, in order.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

export interface Received {
  name: string;
  payload: any;
}

export interface TestSocket {
  socket: Socket;
  /** Every event the server sent, in arrival order (acks are not events). */
  received: Received[];
  /** The payloads of the `name` events about `conversationId`. */
  events(name: 'token' | 'restart' | 'reply' | 'error', conversationId: string): any[];
  /** Sends `event` and resolves with its ack. */
  ask(event: string, payload: unknown): Promise<any>;
  close(): void;
}

type Options = Partial<ManagerOptions & SocketOptions>;

/** A connected client; rejects with the `connect_error` (its `data`: the problem) when the server refuses it. */
export async function connectSocket(url: string, token: string | undefined, options: Options = {}): Promise<TestSocket> {
  // forceNew: a connection of its own, as another tab would have, instead of sharing one per URL.
  const socket = io(url, { forceNew: true, auth: token === undefined ? {} : { token }, ...options });
  const received: Received[] = [];
  socket.onAny((name: string, payload: unknown) => received.push({ name, payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return {
    socket,
    received,
    events: (name, conversationId) => received.filter((e) => e.name === name && e.payload.conversationId === conversationId).map((e) => e.payload),
    ask: (event, payload) => socket.timeout(30_000).emitWithAck(event, payload),
    close: () => socket.close(),
  };
}

/** The text a conversation's tokens spell for `replyId` (its last attempt). */
export function spelled(tokens: { replyId: string; attempt: number; text: string }[], replyId: string): string {
  const mine = tokens.filter((t) => t.replyId === replyId);
  const last = Math.max(...mine.map((t) => t.attempt));
  return mine.filter((t) => t.attempt === last).map((t) => t.text).join('');
}
