/**
 * The page's Socket.IO connection to the API (DESIGN §6 "Web"; protocol in ./protocol.ts): sends messages, follows
 * conversations' events and feeds both into the live slice. Every message keeps its id until the server
 * acknowledges it and is sent again after a reconnect (the server keeps one of each id); every followed
 * conversation is resubscribed from its resume point unless the connection was recovered whole, so a dropped
 * connection loses nothing and doubles nothing.
 */
import { io, type Socket } from 'socket.io-client';
import { noticeShown } from '../app/notice-slice';
import type { AppDispatch } from '../app/store';
import { describeError, isProblem } from '../api/problem';
import { connectionChanged, eventReceived, followingChanged, messageAcknowledged, messageResent, messageSent, replyKnown } from './live-slice';
import { newId } from './new-id';
import type { ClientToServerEvents, ConversationEvent, OutgoingMessage, ServerToClientEvents } from './protocol';

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How long a message waits for its ack before it is sent again. */
const ackTimeoutMs = 10_000;
/** Subscribing after this id reads a conversation's events from the first one kept. */
const streamStart = '0-0';
/** Pause before connecting again after the server refused the connection for a reason other than the token. */
const refusedRetryMs = 5_000;

export interface LiveConnectionOptions {
  token: string;
  /** The signed-in user: their web conversations are `web:<user>:<client id>`. */
  user: string;
  dispatch: AppDispatch;
  /** Where to resume a conversation's events from (undefined: from now on). */
  resumePoint(conversationId: string): string | undefined;
  /** The server refused the token (expired, revoked): `detail` says why. */
  onUnauthorized(detail: string): void;
}

export class LiveConnection {
  private readonly socket: LiveSocket;
  /** Messages the server has not acknowledged, in the order they were sent (conversations named as on the wire). */
  private readonly unacknowledged = new Map<string, OutgoingMessage>();
  /** The conversations this tab follows, by full id: where to start when there is no resume point. */
  private readonly followed = new Map<string, string | undefined>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: LiveConnectionOptions) {
    this.socket = io({ auth: { token: options.token } });
    const { dispatch } = options;
    this.socket.on('connect', () => {
      dispatch(connectionChanged('online'));
      // A recovered connection follows what it followed and got the missed events replayed; otherwise ask again.
      if (!this.socket.recovered) for (const conversationId of this.followed.keys()) this.subscribe(conversationId);
      for (const message of this.unacknowledged.values()) this.emitMessage(message);
    });
    this.socket.on('disconnect', () => dispatch(connectionChanged('reconnecting')));
    this.socket.on('connect_error', (error) => {
      dispatch(connectionChanged('reconnecting'));
      const problem = 'data' in error && isProblem(error.data) ? error.data : undefined;
      if (problem?.status === 401) return options.onUnauthorized(describeError(problem));
      // Refused by the server (not a network failure): Socket.IO leaves it to us to try again.
      if (!this.socket.active) this.retryTimer = setTimeout(() => this.socket.connect(), refusedRetryMs);
    });
    this.socket.on('token', (event) => this.received({ type: 'token', ...event }));
    this.socket.on('restart', (event) => this.received({ type: 'restart', ...event }));
    this.socket.on('reply', (event) => this.received({ type: 'reply', ...event }));
    this.socket.on('error', (problem) => dispatch(noticeShown('error', describeError(problem))));
  }

  /** The token for the next handshake (an identity provider's renewed one). */
  setToken(token: string): void {
    this.socket.auth = { token };
  }

  /** Sends `text` to the conversation; once the server has it, its reply streams in. */
  send(conversationId: string, text: string): void {
    const messageId = newId();
    this.options.dispatch(messageSent({ conversationId, messageId, text, at: new Date().toISOString() }));
    this.transmit({ conversationId: this.wireId(conversationId), text, messageId });
  }

  /** Sends a rejected message again, with its id. */
  resend(conversationId: string, messageId: string, text: string): void {
    this.options.dispatch(messageResent({ conversationId, messageId }));
    this.transmit({ conversationId: this.wireId(conversationId), text, messageId });
  }

  /**
   * Receives the conversation's events from its resume point on, or when this tab has none, after `otherwise`
   * (default: from now on). Only an existing conversation can be followed.
   */
  follow(conversationId: string, otherwise?: string): void {
    if (this.followed.has(conversationId)) return;
    this.followed.set(conversationId, otherwise);
    if (this.socket.connected) this.subscribe(conversationId);
  }

  /** Stops receiving the conversation's events (following it again resumes without a gap). */
  unfollow(conversationId: string): void {
    if (!this.followed.delete(conversationId)) return;
    this.options.dispatch(followingChanged({ conversationId, following: false }));
    if (this.socket.connected) this.socket.emit('unsubscribe', { conversationId: this.wireId(conversationId) });
  }

  close(): void {
    clearTimeout(this.retryTimer);
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }

  private transmit(message: OutgoingMessage): void {
    this.unacknowledged.set(message.messageId, message);
    if (this.socket.connected) this.emitMessage(message);
  }

  private subscribe(conversationId: string): void {
    const after = this.options.resumePoint(conversationId) ?? this.followed.get(conversationId);
    const request = { conversationId: this.wireId(conversationId), ...(after === undefined ? {} : { after }) };
    this.socket.emit('subscribe', request, (ack) => {
      const { dispatch } = this.options;
      if (ack.status === 'rejected') dispatch(noticeShown('error', describeError(ack.problem)));
      else if (this.followed.has(conversationId)) dispatch(followingChanged({ conversationId, following: true }));
    });
  }

  private emitMessage(message: OutgoingMessage): void {
    this.socket.timeout(ackTimeoutMs).emit('message', message, (timedOut, ack) => {
      if (timedOut) {
        if (this.socket.connected && this.unacknowledged.has(message.messageId)) this.emitMessage(message);
        return;
      }
      // The ack of an earlier send of the same message may have come first.
      if (!this.unacknowledged.delete(message.messageId)) return;
      const { dispatch } = this.options;
      const conversationId = this.conversationIdOf(message.conversationId);
      const { messageId } = message;
      if (ack.status === 'rejected') return void dispatch(messageAcknowledged({ conversationId, messageId, problem: describeError(ack.problem) }));
      dispatch(messageAcknowledged({ conversationId, messageId }));
      if (ack.status === 'answered') return void dispatch(replyKnown({ conversationId, reply: ack.reply }));
      // The server follows it for this connection now; after a reconnect, this tab asks again (from the stream's
      // start if no event came by then: the conversation may be new).
      dispatch(followingChanged({ conversationId, following: true }));
      if (!this.followed.has(conversationId)) this.followed.set(conversationId, streamStart);
    });
  }

  private received(event: ConversationEvent): void {
    this.options.dispatch(eventReceived({ conversationId: this.conversationIdOf(event.conversationId), event }));
  }

  /** How the wire names a conversation: `x` for the user's own `web:<user>:x`, the full id for any other. */
  private wireId(conversationId: string): string {
    const own = `web:${this.options.user}:`;
    return conversationId.startsWith(own) ? conversationId.slice(own.length) : conversationId;
  }

  private conversationIdOf(wireId: string): string {
    return wireId.includes(':') ? wireId : `web:${this.options.user}:${wireId}`;
  }
}
