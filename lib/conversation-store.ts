/**
 * The hot, per-conversation state in Redis: what workers write (context snapshot, events, replies) and what the
 * HTTP API reads back (events for SSE, replies for POST /chat).
 */
import type { ConversationCache } from '../activities/ports';
import type { ContextSnapshot, Reply } from '../workflows/messages';
import type { ConversationEvent, StoredEvent } from './conversation-events';
import { BlockingConnections } from './blocking-connections';
import { createLogger, type Logger } from './logger';
import { createTextCipher, type TextCipher } from './text-cipher';
import { defineScript, type Redis, type RedisScript } from './redis';

export interface ConversationStoreOptions {
  /** Expiry of every key of a conversation, refreshed on each write (default 30 days). */
  ttlSeconds?: number;
  /** Approximate cap on a conversation's event stream (default 10,000 entries; older ones are trimmed). */
  maxEvents?: number;
  /** Connections for blocking reads kept open between reads (default 4). */
  maxIdleBlockingConnections?: number;
  /** Encrypts the values that hold conversation text (default: none). */
  cipher?: TextCipher;
  /** Where corrupt entries are reported (default: a pino logger named `conversation-store`). */
  logger?: Logger;
}

export interface ReadEventsOptions {
  /** Wait up to this long for a first event when none is there yet. Omit for a non-blocking read. */
  blockMs?: number;
  /** At most this many events (default 100). */
  count?: number;
}

/**
 * Checks the replyId marker and, only if the reply is new, appends the `reply` event, sets the marker and indexes
 * the reply under each message id it answers. One script, so a retried delivery can never add a second entry.
 * Returns `{1, streamId}` when published, `{0, streamId of the earlier entry}` when it was a repeat.
 */
const publishReplyLua = `
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {0, existing} end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'type', 'reply', 'data', ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], id)
for i = 6, #ARGV do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[5])
  redis.call('HDEL', KEYS[4], ARGV[i])
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return {1, id}
`;

/**
 * Admits a message to the conversation's queue unless it is full. Entries are `messageId → "<bytes>:<ms>"`;
 * entries older than the stale limit are dropped first (an entry whose signal was never answered must not hold
 * the place for ever). A message seen before (queued or already answered) is admitted again without counting.
 * KEYS: queued, replies. ARGV: messageId, bytes, nowMs, maxMessages, maxBytes, staleMs, ttlSeconds.
 * Returns 1 admitted, 2 seen before, 0 full.
 */
const enterQueueLua = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 2 end
local now = tonumber(ARGV[3])
local entries = redis.call('HGETALL', KEYS[1])
local count, total = 0, 0
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local sep = string.find(value, ':', 1, true)
  local at = sep and tonumber(string.sub(value, sep + 1)) or 0
  if now - at > tonumber(ARGV[6]) then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    count = count + 1
    total = total + tonumber(string.sub(value, 1, sep - 1))
  end
end
if count >= tonumber(ARGV[4]) or (count > 0 and total + tonumber(ARGV[2]) > tonumber(ARGV[5])) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return 1
`;

/** How many messages, and how many bytes of text, a conversation may have waiting for their reply. */
export interface QueueLimits {
  maxMessages: number;
  maxBytes: number;
}

/** A queue entry older than this no longer counts (its message was lost before reaching the workflow). */
const queueEntryStaleMs = 60 * 60 * 1000;

const eventTypes: ReadonlySet<string> = new Set<ConversationEvent['type']>(['token', 'restart', 'reply']);
const streamIdPattern = /^\d+-\d+$/;

/** True for a Redis stream entry id (`1700000000000-0`), the only form `readEvents` accepts as `afterId`. */
export function isEventId(value: string): boolean {
  return streamIdPattern.test(value);
}

/**
 * Redis adapter for a conversation's hot state.
 *
 * Key layout (every key starts with `keyPrefix`, every key expires `ttlSeconds` after its last write):
 * - `conv:{<conversationId>}:context`   string: JSON {@link ContextSnapshot}, restored by the next run after an idle close
 * - `conv:{<conversationId>}:events`    stream: entries `{type, data: JSON ConversationEvent}`, trimmed to ~`maxEvents`;
 *                                     entry ids are the SSE event ids
 * - `conv:{<conversationId>}:replies`   hash: inbound messageId → JSON {@link Reply} that answered it
 * - `conv:{<conversationId>}:published` hash: replyId → stream id of its `reply` event (marker against double delivery)
 * - `conv:{<conversationId>}:queued`    hash: messageId → `<text bytes>:<ms>` of each message admitted and not yet
 *                                     answered (the edge's queue cap; publishing a reply removes its messages)
 * - `conv:{<conversationId>}:closing`   string: a worker's idle closer asked the conversation to close (expires)
 *
 * Blocking reads (`readEvents` with `blockMs`, `waitForReply`) each run on a connection of their own from a small
 * pool, so a reader waiting for events never delays the commands other callers send on the shared client.
 * The pool closes with the shared client (`redis.quit()`), or with `close()`.
 *
 * @example
 * const store = new ConversationStore(createRedis(config.redis.url), config.redis.keyPrefix, { logger });
 */
export class ConversationStore implements ConversationCache {
  private readonly ttlSeconds: number;
  private readonly maxEvents: number;
  private readonly logger: Logger;
  private readonly blocking: BlockingConnections;
  private readonly cipher: TextCipher;
  private readonly publishReplyScript: RedisScript<[number, string]>;
  private readonly enterQueueScript: RedisScript<number>;

  constructor(private readonly redis: Redis, private readonly keyPrefix: string, options: ConversationStoreOptions = {}) {
    this.ttlSeconds = options.ttlSeconds ?? 30 * 24 * 3600;
    this.maxEvents = options.maxEvents ?? 10_000;
    this.logger = options.logger ?? createLogger({ level: 'info', name: 'conversation-store' });
    this.blocking = new BlockingConnections(redis, options.maxIdleBlockingConnections, this.logger);
    this.cipher = options.cipher ?? createTextCipher(undefined);
    this.publishReplyScript = defineScript(redis, 'aacPublishReply', 4, publishReplyLua);
    this.enterQueueScript = defineScript(redis, 'aacEnterQueue', 2, enterQueueLua);
  }

  async saveContext(conversationId: string, snapshot: ContextSnapshot): Promise<void> {
    await this.redis.set(this.key(conversationId, 'context'), this.encode(snapshot), 'EX', this.ttlSeconds);
  }

  /** The saved snapshot, or null when there is none or it cannot be parsed (logged: a fresh context beats a crash). */
  async loadContext(conversationId: string): Promise<ContextSnapshot | null> {
    const raw = await this.redis.get(this.key(conversationId, 'context'));
    if (raw === null) return null;
    const snapshot = this.decode(raw) as ContextSnapshot | undefined;
    if (!isObject(snapshot) || !Array.isArray(snapshot.window)) {
      this.logger.warn({ conversationId }, 'corrupt context snapshot in redis; treating it as absent');
      return null;
    }
    return snapshot;
  }

  /** Appends one event to the conversation's stream and returns its stream id. */
  async appendEvent(conversationId: string, event: ConversationEvent): Promise<string> {
    const [id] = await this.appendEvents(conversationId, [event]);
    return id!;
  }

  /** Appends `events` in order, in one round trip (one transaction), and returns their stream ids. */
  async appendEvents(conversationId: string, events: readonly ConversationEvent[]): Promise<string[]> {
    const key = this.key(conversationId, 'events');
    const transaction = this.redis.multi();
    for (const event of events) transaction.xadd(key, 'MAXLEN', '~', this.maxEvents, '*', 'type', event.type, 'data', this.encode(event));
    const results = (await transaction.expire(key, this.ttlSeconds).exec()) ?? [[new Error('transaction aborted'), null]];
    return results.slice(0, events.length).map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }

  async publishReply(conversationId: string, reply: Reply): Promise<{ published: boolean }> {
    const event: ConversationEvent = { type: 'reply', reply };
    const [published] = await this.publishReplyScript(
      this.key(conversationId, 'events'), this.key(conversationId, 'published'), this.key(conversationId, 'replies'),
      this.key(conversationId, 'queued'), reply.replyId, this.maxEvents, this.ttlSeconds, this.encode(event), this.encode(reply), ...reply.inReplyTo,
    );
    return { published: published === 1 };
  }

  /**
   * Admits a message of `bytes` to the conversation's queue of unanswered messages: `full` when `limits` leave no
   * room, `seen` when it was admitted (or answered) before and counts already.
   */
  async enterQueue(conversationId: string, messageId: string, bytes: number, limits: QueueLimits): Promise<'admitted' | 'seen' | 'full'> {
    const result = await this.enterQueueScript(
      this.key(conversationId, 'queued'), this.key(conversationId, 'replies'),
      messageId, bytes, Date.now(), limits.maxMessages, limits.maxBytes, queueEntryStaleMs, this.ttlSeconds,
    );
    return result === 1 ? 'admitted' : result === 2 ? 'seen' : 'full';
  }

  /** Gives a message's place back (its signal failed, so it is not waiting for a reply). */
  async leaveQueue(conversationId: string, messageId: string): Promise<void> {
    await this.redis.hdel(this.key(conversationId, 'queued'), messageId);
  }

  /** The reply that answered `messageId`, if it was published within the TTL. */
  async findReply(conversationId: string, messageId: string): Promise<Reply | null> {
    const raw = await this.redis.hget(this.key(conversationId, 'replies'), messageId);
    if (raw === null) return null;
    const reply = this.decode(raw) as Reply | undefined;
    if (!isReply(reply)) {
      this.logger.warn({ conversationId, messageId }, 'corrupt reply in redis; treating it as absent');
      return null;
    }
    return reply;
  }

  /** Id of the newest event, `'0-0'` when the stream is empty: read from here to see only what comes next. */
  async lastEventId(conversationId: string): Promise<string> {
    const [last] = await this.redis.xrevrange(this.key(conversationId, 'events'), '+', '-', 'COUNT', 1);
    return last?.[0] ?? '0-0';
  }

  /**
   * Events after `afterId`, oldest first. With `blockMs`, waits up to that long when there are none yet
   * (an empty array means nothing came). Entries that cannot be parsed, or of types this version does not know,
   * are skipped.
   *
   * @example
   * let cursor = lastEventIdFromClient ?? (await store.lastEventId(id));
   * while (clientConnected) {
   *   for (const event of await store.readEvents(id, cursor, { blockMs: 10_000 })) {
   *     send(event);
   *     cursor = event.id;
   *   }
   * }
   */
  async readEvents(conversationId: string, afterId: string, options: ReadEventsOptions = {}): Promise<StoredEvent[]> {
    if (!isEventId(afterId)) throw new RangeError(`"${afterId}" is not an event id`);
    const { blockMs, count = 100 } = options;
    if (blockMs === undefined) return this.read(this.redis, conversationId, afterId, count);
    return this.blocking.use((connection) => this.read(connection, conversationId, afterId, count, blockMs));
  }

  /**
   * Waits for the reply to `messageId`: already published, or appearing on the stream after `afterId` (take it
   * from `lastEventId` before sending the message). Resolves null once `timeoutMs` has passed without one.
   */
  async waitForReply(conversationId: string, messageId: string, afterId: string, timeoutMs: number): Promise<Reply | null> {
    if (!isEventId(afterId)) throw new RangeError(`"${afterId}" is not an event id`);
    const deadline = performance.now() + timeoutMs;
    const known = await this.findReply(conversationId, messageId);
    if (known) return known;
    return this.blocking.use(async (connection) => {
      let cursor = afterId;
      for (;;) {
        const remaining = deadline - performance.now();
        if (remaining < 1) return null;
        const result = await this.xread(connection, conversationId, cursor, 100, remaining);
        const entries = result?.[0]?.[1] ?? [];
        // Only reply events are decoded (and decrypted): a reply streams many token events before it.
        for (const [id, fields] of entries) {
          if (fields[0] !== 'type' || fields[1] !== 'reply') continue;
          const event = this.toEvent(fields, conversationId, id);
          if (event?.type === 'reply' && event.reply.inReplyTo.includes(messageId)) return event.reply;
        }
        cursor = entries.at(-1)?.[0] ?? cursor;
      }
    });
  }

  /** Closes the idle blocking-read connections now rather than when the shared client ends. */
  close(): void {
    this.blocking.close();
  }

  private async read(
    connection: Redis, conversationId: string, afterId: string, count: number, blockMs?: number,
  ): Promise<StoredEvent[]> {
    return this.toEvents(await this.xread(connection, conversationId, afterId, count, blockMs), conversationId);
  }

  private xread(connection: Redis, conversationId: string, afterId: string, count: number, blockMs?: number) {
    const key = this.key(conversationId, 'events');
    return blockMs === undefined
      ? connection.xread('COUNT', count, 'STREAMS', key, afterId)
      // BLOCK 0 would wait forever: never ask for less than 1 ms.
      : connection.xread('COUNT', count, 'BLOCK', Math.max(1, Math.floor(blockMs)), 'STREAMS', key, afterId);
  }

  /** Gives the conversation its title unless it has one (its first message's, for the conversation list). */
  async setTitle(conversationId: string, title: string): Promise<void> {
    await this.redis.set(this.key(conversationId, 'title'), this.encode(title), 'EX', this.ttlSeconds, 'NX');
  }

  /** The titles of `conversationIds`, in order; undefined where Redis has none (or cannot read it). */
  async titles(conversationIds: readonly string[]): Promise<(string | undefined)[]> {
    // One GET each: the keys are in different Redis Cluster slots.
    const raws = await Promise.all(conversationIds.map((id) => this.redis.get(this.key(id, 'title'))));
    return raws.map((raw) => {
      const title = raw === null ? undefined : this.decode(raw);
      return typeof title === 'string' ? title : undefined;
    });
  }

  /** Removes everything Redis holds for the conversation: context, events, reply index, queue, title. */
  async forget(conversationId: string): Promise<void> {
    const kinds = ['context', 'events', 'replies', 'published', 'queued', 'title', 'closing'] as const;
    await this.redis.del(...kinds.map((kind) => this.key(conversationId, kind)));
  }

  /** True for the one caller that may ask the conversation to close in the next `leaseMs` (workers' idle closers). */
  async claimIdleClose(conversationId: string, leaseMs: number): Promise<boolean> {
    return (await this.redis.set(this.key(conversationId, 'closing'), '1', 'PX', leaseMs, 'NX')) === 'OK';
  }

  private key(conversationId: string, kind: 'context' | 'events' | 'replies' | 'published' | 'queued' | 'title' | 'closing'): string {
    // The {hash tag} keeps a conversation's keys in one Redis Cluster slot, as the multi-key Lua script requires.
    return `${this.keyPrefix}conv:{${conversationId}}:${kind}`;
  }

  private toEvents(result: [string, [string, string[]][]][] | null, conversationId: string): StoredEvent[] {
    const entries = result?.[0]?.[1] ?? [];
    return entries.flatMap(([id, fields]) => {
      const event = this.toEvent(fields, conversationId, id);
      return event ? [{ ...event, id }] : [];
    });
  }

  private toEvent(fields: string[], conversationId: string, id: string): ConversationEvent | null {
    const field = (name: string) => {
      const index = fields.findIndex((value, i) => i % 2 === 0 && value === name);
      return index < 0 ? undefined : fields[index + 1];
    };
    const type = field('type');
    // Unknown types come from a newer writer during a rolling deploy: skip them quietly.
    if (type === undefined || !eventTypes.has(type)) return null;
    const data = field('data');
    const event = data === undefined ? undefined : (this.decode(data) as ConversationEvent | undefined);
    if (!isObject(event) || event.type !== type || (event.type === 'reply' && !isReply(event.reply))) {
      this.logger.warn({ conversationId, eventId: id }, 'skipping corrupt event on the conversation stream');
      return null;
    }
    return event;
  }

  /** JSON, sealed when a key ring is configured: conversation text is never stored in plaintext. */
  private encode(value: unknown): string {
    return this.cipher.seal(JSON.stringify(value));
  }

  /** Undefined for anything unreadable (corrupt, tampered, or sealed with a key the ring lacks): callers log it. */
  private decode(raw: string): unknown {
    try {
      return parseJson(this.cipher.open(raw));
    } catch {
      return undefined;
    }
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function isObject<T>(value: T | undefined): value is T & object {
  return typeof value === 'object' && value !== null;
}

/** Enough of a Reply for the code that matches on it (`inReplyTo`) not to crash on a damaged entry. */
function isReply(value: Reply | undefined): value is Reply {
  return isObject(value) && typeof value.replyId === 'string' && Array.isArray(value.inReplyTo);
}
