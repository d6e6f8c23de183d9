/**
 * Writes a reply's streamed tokens to the conversation's event stream, strictly in order.
 */
import type { Logger } from '../lib/logger';
import type { ConversationEvent } from '../lib/conversation-events';
import type { ConversationCache } from './ports';

/**
 * Deltas arrive through a synchronous callback; events are appended one write after the other (one promise
 * chain), so the stream order is the delta order. Events that arrive while a write is in flight go out together
 * in the next one: a fast model costs a few round trips per reply, not one per token. Token events are a live
 * preview: when Redis fails, the writer logs once and stops, and the reply itself still goes out.
 */
export class TokenEventWriter {
  private chain: Promise<void> = Promise.resolve();
  private pending: ConversationEvent[] = [];
  private index = 0;
  private sinceRestart = 0;
  private failed = false;

  constructor(
    private readonly cache: ConversationCache,
    private readonly conversationId: string,
    private readonly replyId: string,
    private readonly attempt: number,
    private readonly logger: Logger,
  ) {}

  /** Tokens written since the start or the last `restart()`: text a client shows and would have to discard. */
  get hasPartialText(): boolean {
    return this.sinceRestart > 0;
  }

  /** Tells clients to discard the partial text they have for this reply. */
  restart(): void {
    this.sinceRestart = 0;
    this.enqueue({ type: 'restart', replyId: this.replyId, attempt: this.attempt });
  }

  /** `index` counts from 0 over the whole attempt, across a fallback to another provider. */
  token(text: string): void {
    this.sinceRestart += 1;
    this.enqueue({ type: 'token', replyId: this.replyId, attempt: this.attempt, index: this.index++, text });
  }

  /** Resolves when every queued event has been written (or dropped after a failure). */
  flush(): Promise<void> {
    return this.chain;
  }

  private enqueue(event: ConversationEvent): void {
    this.pending.push(event);
    // A write is already queued: it takes this event along.
    if (this.pending.length > 1) return;
    this.chain = this.chain.then(async () => {
      const batch = this.pending;
      this.pending = [];
      if (this.failed) return;
      try {
        await this.cache.appendEvents(this.conversationId, batch);
      } catch (error) {
        // Later tokens would leave a gap in the stream: stop here; clients get the whole reply event later.
        this.failed = true;
        this.logger.warn({ err: error, conversationId: this.conversationId, replyId: this.replyId }, 'token events dropped: appending to the event stream failed');
      }
    });
  }
}
