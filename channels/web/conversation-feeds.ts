/**
 * Readers of conversations' event streams, shared in this process: the sockets of one user that follow one
 * conversation share a reader (two tabs cost one Redis reader and one of the user's stream leases, as one SSE stream
 * does), unless their cursors are too far apart for one reader to serve both (conversation-feed.ts).
 *
 * Each API replica reads for its own sockets and sends to each socket itself; nothing is broadcast to the other
 * replicas, so no socket gets an event twice however many replicas run.
 */
import type { Caller, ConversationRef } from '../../lib/conversations';
import { ConversationFeed, type FeedDeps, type Follower } from './conversation-feed';

export class ConversationFeeds {
  /** By user and conversation: usually one reader, more while followers are too far apart to share one. */
  private readonly feeds = new Map<string, Set<ConversationFeed>>();

  constructor(private readonly deps: FeedDeps) {}

  /**
   * Sends `follower` the conversation's events after `after` (default: from now on) until it unfollows or ends.
   * Resolves to its cursor once its reader is open: the event id it has all events up to (undefined: not known yet).
   * @throws what `Conversations.events` throws (NotFoundError, LimitExceededError, ...) when a reader must be opened.
   */
  async follow(caller: Caller, ref: ConversationRef, follower: Follower, after: string | undefined): Promise<string | undefined> {
    const key = feedKey(caller.principal.user, ref.id);
    const feeds = this.feeds.get(key) ?? new Set<ConversationFeed>();
    this.feeds.set(key, feeds);
    let feed = [...feeds].find((candidate) => candidate.join(follower, after));
    if (!feed) {
      const created = new ConversationFeed(caller, ref, follower, after, this.deps, () => {
        feeds.delete(created);
        if (feeds.size === 0 && this.feeds.get(key) === feeds) this.feeds.delete(key);
      });
      feeds.add(created);
      feed = created;
    }
    await feed.opened;
    return feed.cursorOf(follower);
  }

  unfollow(user: string, conversationId: string, follower: Follower): void {
    for (const feed of this.feeds.get(feedKey(user, conversationId)) ?? []) feed.leave(follower);
  }

  close(): void {
    for (const feeds of [...this.feeds.values()]) for (const feed of [...feeds]) feed.stop();
  }
}

function feedKey(user: string, conversationId: string): string {
  return `${user}\n${conversationId}`;
}
