/**
 * One reader of a conversation's event stream and the followers it sends to, each with a cursor of its own (the last
 * event id it was given), so that each gets every later event exactly once and in order. A follower that joins a
 * little behind the reader is caught up from its recent events; one further behind needs a reader of its own. A
 * reader that fails for a reason that passes (Redis away) is reopened from the oldest cursor.
 */
import type { StoredEvent } from '../../lib/conversation-events';
import type { Caller, ConversationRef, Conversations, EventFeed } from '../../lib/conversations';
import type { Logger } from '../../lib/logger';
import { logProblem, problemOf } from './problem';

/** Whoever follows a conversation through a reader (a socket). */
export interface Follower {
  deliver(event: StoredEvent): void;
  /** The reader ended for good (a limit, a failure that does not pass): the follower no longer follows it. */
  end(error: unknown): void;
}

export interface FeedDeps {
  conversations: Pick<Conversations, 'events'>;
  logger: Logger;
}

/** Events a reader keeps, so that a follower joining a little behind is caught up without reading again. */
const recentEvents = 1000;
/** A reader that failed for a reason that passes (Redis or Temporal away, a busy process) is reopened after this. */
const reopenMs = 5000;

export class ConversationFeed {
  /** Each follower's cursor: the last event id it was given (undefined: whatever is read next). */
  private readonly followers = new Map<Follower, string | undefined>();
  /** The reader's events, oldest first, bounded: every event it read after `coveredFrom`. */
  private recent: StoredEvent[] = [];
  /** undefined while the reader started "from now" and has dropped nothing: then `recent` covers from its first. */
  private coveredFrom: string | undefined;
  /** The newest event id read: where a follower "from now" starts. */
  private newest: string | undefined;
  private reader: EventFeed | undefined;
  /** Settles when the reader is open: a follower waits for it, so that an unknown conversation or a limit refuses it. */
  opened: Promise<void>;
  /** Bumped when the reader is replaced or the feed stops: what an older reader reads after that is dropped. */
  private generation = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly caller: Caller,
    private readonly ref: ConversationRef,
    first: Follower,
    after: string | undefined,
    private readonly deps: FeedDeps,
    private readonly onStop: () => void,
  ) {
    this.followers.set(first, after);
    this.opened = this.open(after, { retrying: false });
  }

  /** Takes `follower` when this reader has (or will read) every event after `after`; false when it is too far behind. */
  join(follower: Follower, after: string | undefined): boolean {
    const cursor = after ?? this.newest;
    if (this.stopped || (cursor !== undefined && !this.covers(cursor))) return false;
    this.followers.set(follower, cursor);
    for (const event of this.recent) if (cursor === undefined || isAfter(event.id, cursor)) this.send(follower, event);
    return true;
  }

  cursorOf(follower: Follower): string | undefined {
    return this.followers.get(follower);
  }

  leave(follower: Follower): void {
    if (this.followers.delete(follower) && this.followers.size === 0) this.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.generation += 1;
    clearTimeout(this.reopenTimer);
    this.closeReader();
    this.onStop();
  }

  private async open(from: string | undefined, { retrying }: { retrying: boolean }): Promise<void> {
    const generation = ++this.generation;
    this.coveredFrom = from;
    this.recent = [];
    try {
      const reader = await this.deps.conversations.events(this.caller, this.ref, { after: from });
      if (generation !== this.generation) return void (await reader.close());
      this.reader = reader;
      // Opened "from now": now has an event id, where its followers resume if they drop before any event comes.
      this.coveredFrom ??= reader.after;
      this.newest ??= reader.after;
      for (const [follower, cursor] of this.followers) if (cursor === undefined) this.followers.set(follower, reader.after);
      void this.pump(reader, generation);
    } catch (error) {
      if (generation !== this.generation) return;
      if (retrying && this.reopenLater(error)) return;
      this.end(error);
      throw error;
    }
  }

  private async pump(reader: EventFeed, generation: number): Promise<void> {
    try {
      for await (const events of reader) {
        if (generation !== this.generation) return;
        for (const event of events) this.dispatch(event);
      }
    } catch (error) {
      if (generation === this.generation && !this.reopenLater(error)) this.end(error);
    }
  }

  private dispatch(event: StoredEvent): void {
    this.recent.push(event);
    if (this.recent.length > recentEvents) this.coveredFrom = this.recent.shift()!.id;
    if (this.newest === undefined || isAfter(event.id, this.newest)) this.newest = event.id;
    for (const [follower, cursor] of this.followers) if (cursor === undefined || isAfter(event.id, cursor)) this.send(follower, event);
  }

  private send(follower: Follower, event: StoredEvent): void {
    this.followers.set(follower, event.id);
    follower.deliver(event);
  }

  /** Whether every event after `cursor` was read into `recent` or is still to be read. */
  private covers(cursor: string): boolean {
    const from = this.coveredFrom ?? this.recent[0]?.id;
    return from !== undefined && !isAfter(from, cursor);
  }

  /** After an error that may pass, opens a new reader in a while, from the oldest cursor; false for any other error. */
  private reopenLater(error: unknown): boolean {
    const problem = problemOf(error);
    if (problem.status !== 503) return false;
    logProblem(this.deps.logger, error, problem, { conversationId: this.ref.id, reopenInMs: reopenMs });
    this.closeReader();
    this.generation += 1;
    this.reopenTimer = setTimeout(() => {
      this.opened = this.open(this.oldestCursor(), { retrying: true });
      this.opened.catch(() => undefined); // its followers were told; nobody waits for it
    }, reopenMs);
    return true;
  }

  private oldestCursor(): string | undefined {
    let oldest: string | undefined;
    for (const cursor of this.followers.values()) if (cursor !== undefined && (oldest === undefined || isAfter(oldest, cursor))) oldest = cursor;
    return oldest ?? this.coveredFrom;
  }

  /** Ends every follower with `error` and the feed with them. */
  private end(error: unknown): void {
    const followers = [...this.followers.keys()];
    this.followers.clear();
    this.stop();
    for (const follower of followers) follower.end(error);
  }

  private closeReader(): void {
    const reader = this.reader;
    this.reader = undefined;
    reader?.close().catch((error: unknown) => this.deps.logger.warn({ conversationId: this.ref.id, error: (error as Error).message }, 'closing an event reader failed'));
  }
}

/** Whether stream id `a` (`<ms>-<seq>`) comes after `b`. */
function isAfter(a: string, b: string): boolean {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number];
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number];
  return aMs > bMs || (aMs === bMs && aSeq > bSeq);
}
