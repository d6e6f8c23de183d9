/**
 * The conversations one connection follows: for each, a follower in this process's shared readers
 * (conversation-feeds.ts) that sends the conversation's events to the socket, and a cursor in the socket's data (the
 * last event id sent), which Socket.IO saves with the connection's session so that a recovered connection follows
 * the conversation again from exactly there.
 */
import type { StoredEvent } from '../../lib/conversation-events';
import type { Caller, ConversationRef } from '../../lib/conversations';
import type { Logger } from '../../lib/logger';
import type { Follower } from './conversation-feed';
import type { ConversationFeeds } from './conversation-feeds';
import { logProblem, problemOf } from './problem';
import type { EdgeSocket } from './web-socket-edge';

export class SocketFollows {
  /** By workflow id. */
  private readonly followers = new Map<string, Follower>();

  constructor(
    private readonly socket: EdgeSocket,
    private readonly feeds: ConversationFeeds,
    private readonly logger: Logger,
  ) {}

  /**
   * Follows `ref` from `after` (default: from now on), unless the connection follows it already: then it has missed
   * nothing, and nothing changes. @throws what opening a reader throws (NotFoundError, LimitExceededError, ...).
   */
  async follow(caller: Caller, ref: ConversationRef, after: string | undefined): Promise<void> {
    const { socket, feeds, logger } = this;
    if (this.followers.has(ref.id) || !socket.connected) return;
    const conversationId = wireName(caller, ref);
    let opening = true;
    const follower: Follower = {
      deliver(event) {
        // Safe only because Socket.IO saves a closing socket's session at once: the cursor saved is the last one sent.
        if (!socket.connected) return;
        socket.data.follows[ref.id] = event.id;
        emitEvent(socket, conversationId, event);
      },
      end: (error) => {
        this.forget(ref.id);
        if (opening || !socket.connected) return; // the subscriber hears it in its ack
        const problem = problemOf(error);
        logProblem(logger, error, problem, { 'socket.id': socket.id, conversationId: ref.id });
        socket.emit('error', { ...problem, conversationId });
      },
    };
    this.followers.set(ref.id, follower);
    socket.data.follows[ref.id] = after ?? null;
    try {
      const start = await feeds.follow(caller, ref, follower, after);
      if (socket.data.follows[ref.id] === null && start !== undefined) socket.data.follows[ref.id] = start;
      // Gone while the reader opened: its disconnect found nothing to unfollow yet.
      if (!socket.connected) feeds.unfollow(caller.principal.user, ref.id, follower);
    } catch (error) {
      this.forget(ref.id);
      throw error;
    } finally {
      opening = false;
    }
  }

  unfollow(ref: ConversationRef): void {
    const follower = this.followers.get(ref.id);
    if (follower) this.feeds.unfollow(this.socket.data.principal.user, ref.id, follower);
    this.forget(ref.id);
  }

  /** The connection closed: nothing more is sent to it. Its cursors stay as saved with its session. */
  disconnected(): void {
    for (const [conversationId, follower] of this.followers) this.feeds.unfollow(this.socket.data.principal.user, conversationId, follower);
    this.followers.clear();
  }

  /** What a recovered connection followed, by workflow id, with its cursors: to be followed anew, once. */
  takeRecovered(): [string, string | null][] {
    const recovered = Object.entries(this.socket.data.follows);
    this.socket.data.follows = {};
    return recovered;
  }

  private forget(conversationId: string): void {
    this.followers.delete(conversationId);
    delete this.socket.data.follows[conversationId];
  }
}

/**
 * How the wire names a conversation: by its client id when it is the caller's own web conversation (`x` for
 * `web:<user>:x`, DESIGN §3), by its full id otherwise (an API conversation, another user's).
 */
export function wireName(caller: Caller, ref: ConversationRef): string {
  return ref.channel === 'web' && ref.user === caller.principal.user ? ref.clientId : ref.id;
}

/** Sends a conversation event as the SSE route sends it, with its event id and conversation. */
function emitEvent(socket: EdgeSocket, conversationId: string, event: StoredEvent): void {
  switch (event.type) {
    case 'token':
      socket.emit('token', { ...event, conversationId });
      break;
    case 'restart':
      socket.emit('restart', { ...event, conversationId });
      break;
    case 'reply':
      socket.emit('reply', { ...event, conversationId });
      break;
  }
}
