/**
 * Per-user limits kept in Redis, so that every API replica and the Telegram edge count against the same budget.
 * - messages per minute and new conversations per hour: sliding windows of ids (WindowLimit). A retry of a message
 *   (same id) is not counted again, and one the engine refused is given back, so nothing is half-accepted.
 * - event streams: the streams a user has open, each a lease renewed while it runs; a replica that dies leaves
 *   leases that lapse on their own.
 * @example await new MessageLimits(redis, prefix, config.limits).within('alice', conversationId, messageId, () => send());
 */
import { LimitExceededError } from './errors';
import type { Redis } from './redis';
import { TokenBudget } from './token-budget';

/**
 * KEYS[1] the user's log, KEYS[2] the ids remembered beyond the window; ARGV now, window, limit, id, remember (ms,
 * 0: no memory). Returns 0 when admitted now, -1 when counted before, else ms until a place frees.
 */
const takeScript = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local remember = tonumber(ARGV[5])
if remember > 0 and redis.call('SISMEMBER', KEYS[2], ARGV[4]) == 1 then return -1 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return -1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
if remember > 0 then
  redis.call('SADD', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], remember)
end
return 0`;

export interface WindowLimitOptions {
  /** Key part and what is counted: `messages`, `conversations`. */
  name: string;
  /** How many ids a user may add within `windowMs`; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** Remember admitted ids this long, so they never count again (a conversation is new once); default: only the window. */
  rememberMs?: number;
  /** The 429's detail. */
  refusal(limit: number, retryAfterSeconds: number): string;
}

/**
 * A sliding window of ids per user: an id already counted is not counted again, and an id whose `send` failed is
 * given back, so nothing is half-accepted.
 */
export class WindowLimit {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly options: WindowLimitOptions,
  ) {}

  /** Runs `send` only within the user's budget (LimitExceededError otherwise). */
  async within<T>(user: string, id: string, send: () => Promise<T>): Promise<T> {
    const { limit, windowMs, rememberMs = 0, refusal } = this.options;
    if (limit === 0) return send();
    const [log, known] = this.keys(user);
    const waitMs = Number(await this.redis.eval(takeScript, 2, log, known, Date.now(), windowMs, limit, id, rememberMs));
    if (waitMs > 0) throw new LimitExceededError(refusal(limit, Math.ceil(waitMs / 1000)), Math.ceil(waitMs / 1000));
    try {
      return await send();
    } catch (error) {
      // Only a place taken just now goes back: an id counted before (an existing conversation) stays counted.
      if (waitMs === 0) await this.redis.multi().zrem(log, id).srem(known, id).exec().catch(() => undefined);
      throw error;
    }
  }

  /** Forgets that `id` was counted beyond the window (a deleted conversation); the window itself keeps it. */
  async forget(user: string, id: string): Promise<void> {
    await this.redis.srem(this.keys(user)[1], id);
  }

  private keys(user: string): [string, string] {
    const base = `${this.keyPrefix}limits:${this.options.name}:{${user}}`;
    return [base, `${base}:known`];
  }
}

/** The limits every message passes, whichever edge it comes in by. */
export class MessageLimits {
  /** Messages per minute: a retry with the same messageId is the same message. */
  private readonly messages: WindowLimit;
  /** New conversations per hour: a conversation counts once, when the limit first sees it (remembered 30 days). */
  private readonly conversations: WindowLimit;

  /** Model tokens per UTC day, counted by the model activities. */
  private readonly tokens: TokenBudget;

  constructor(redis: Redis, keyPrefix: string, limits: { messagesPerMinute: number; conversationsPerHour: number; tokensPerDay: number }) {
    this.tokens = new TokenBudget(redis, keyPrefix, limits.tokensPerDay);
    this.messages = new WindowLimit(redis, keyPrefix, {
      name: 'messages',
      limit: limits.messagesPerMinute,
      windowMs: 60_000,
      refusal: (limit, retry) =>
        `You have sent ${limit} messages in the last minute, the most allowed; this one was not accepted. ` +
        `Send it again (with the same messageId) in ${retry} s.`,
    });
    this.conversations = new WindowLimit(redis, keyPrefix, {
      name: 'conversations',
      limit: limits.conversationsPerHour,
      windowMs: 3600_000,
      rememberMs: 30 * 24 * 3600_000,
      refusal: (limit, retry) =>
        `You have started ${limit} new conversations in the last hour, the most allowed; this message was not accepted. ` +
        `Continue an existing conversation, or start this one in ${retry} s.`,
    });
  }

  /**
   * Runs `send` when `user` is within every limit (LimitExceededError otherwise); a refused send costs nothing.
   * `user` is the limit subject (lib/token-budget.ts limitSubject), `conversationId` the client's or the chat's id.
   */
  async within<T>(user: string, conversationId: string, messageId: string, send: () => Promise<T>): Promise<T> {
    await this.tokens.check(user);
    return this.messages.within(user, messageId, () => this.conversations.within(user, conversationId, send));
  }

  /** Forgets a deleted conversation (it still counts in the hour it was started). */
  async forgetConversation(user: string, conversationId: string): Promise<void> {
    await this.conversations.forget(user, conversationId);
  }
}

/** A lease lapses this long after its last renewal (a stream renews at every read, every 10 s at most). */
const leaseMs = 30_000;

/** KEYS[1] the user's leases; ARGV now, lease, limit, id. Returns 1 when the lease is granted. */
const leaseScript = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if not redis.call('ZSCORE', KEYS[1], ARGV[4]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

export class StreamLeases {
  /** @param perUser streams a user may have open at once; 0 turns the limit off. */
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly perUser: number,
  ) {}

  /** Takes (or renews) the lease `id`; false when the user already holds as many as allowed. */
  async hold(user: string, id: string): Promise<boolean> {
    if (this.perUser === 0) return true;
    return Number(await this.redis.eval(leaseScript, 1, this.key(user), Date.now(), leaseMs, this.perUser, id)) === 1;
  }

  async release(user: string, id: string): Promise<void> {
    if (this.perUser > 0) await this.redis.zrem(this.key(user), id);
  }

  private key(user: string): string {
    return `${this.keyPrefix}limits:streams:{${user}}`;
  }
}
