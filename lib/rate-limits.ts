/**
 * Per-user limits kept in Redis, so that every API replica and the Telegram edge count against the same budget.
 * - messages: a sliding log of the last minute's message ids per user. A retry of a message (same id) is not
 *   counted again, and a message the engine refused is given back, so nothing is half-accepted.
 * - event streams: the streams a user has open, each a lease renewed while it runs; a replica that dies leaves
 *   leases that lapse on their own.
 * @example const limit = await messages.take('alice', messageId); if (!limit.ok) answer429(limit.retryAfterSeconds);
 */
import { LimitExceededError } from './errors';
import type { Redis } from './redis';

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

const windowMs = 60_000;

/** KEYS[1] the user's log; ARGV now, window, limit, id. Returns 0 when admitted, else ms until a place frees. */
const takeScript = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 0 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0`;

export class MessageRateLimit {
  /** @param perMinute messages a user may send in any minute; 0 turns the limit off. */
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly perMinute: number,
  ) {}

  private async take(user: string, messageId: string): Promise<Admission> {
    if (this.perMinute === 0) return { ok: true };
    const waitMs = Number(await this.redis.eval(takeScript, 1, this.key(user), Date.now(), windowMs, this.perMinute, messageId));
    return waitMs === 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.ceil(waitMs / 1000) };
  }

  /**
   * Runs `send` only within the user's budget (LimitExceededError otherwise); when `send` fails the message's place
   * is given back, so a refused message costs nothing.
   */
  async within<T>(user: string, messageId: string, send: () => Promise<T>): Promise<T> {
    const admission = await this.take(user, messageId);
    if (!admission.ok) {
      throw new LimitExceededError(
        `You have sent ${this.perMinute} messages in the last minute, the most allowed; this one was not accepted. ` +
          `Send it again (with the same messageId) in ${admission.retryAfterSeconds} s.`,
        admission.retryAfterSeconds,
      );
    }
    try {
      return await send();
    } catch (error) {
      if (this.perMinute > 0) await this.redis.zrem(this.key(user), messageId).catch(() => undefined);
      throw error;
    }
  }

  private key(user: string): string {
    return `${this.keyPrefix}limits:messages:{${user}}`;
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
