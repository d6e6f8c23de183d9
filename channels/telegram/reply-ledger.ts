/**
 * The Telegram reply ledger (`TelegramReplyLedger`, what the reply activities record per reply) and its Redis adapter.
 *
 * Keys (prefixed, expiring a week after the last write; `{replyId}` keeps one reply's keys in one Cluster slot):
 * - `tg:reply:{<replyId>}:parts`  hash: part index → Telegram message id, or `pending` while its send is under way
 * - `tg:reply:{<replyId>}:final`  string: set when the final delivery starts (the preview stops editing)
 * - `tg:reply:{<replyId>}:lock`   string: the owner of the short lock around one send or edit
 * - `tg:uncertain-sends`          counter: sends repeated after an attempt that may have reached the chat
 */
import { defineScript, type Redis, type RedisScript } from '../../lib/redis';

/** A part of a reply: sent as message `messageId`, or `pending` (the send started; whether it arrived is unknown). */
export type SentPart = number | 'pending';

/**
 * What was sent for each reply (Redis): the Telegram message of each part, a `final` flag that stops the live
 * preview, and a short lock that keeps the preview's edit and the final edit of one reply from crossing.
 */
export interface TelegramReplyLedger {
  parts(replyId: string): Promise<Map<number, SentPart>>;
  markPending(replyId: string, index: number): Promise<void>;
  markSent(replyId: string, index: number, messageId: number): Promise<void>;
  /** Forgets a pending mark: Telegram answered that the part was not sent. */
  unmark(replyId: string, index: number): Promise<void>;
  markFinal(replyId: string): Promise<void>;
  isFinal(replyId: string): Promise<boolean>;
  /** True when `owner` now holds the reply's lock for `ttlMs`: it was free, or `owner` held it already. */
  tryLock(replyId: string, owner: string, ttlMs: number): Promise<boolean>;
  unlock(replyId: string, owner: string): Promise<void>;
  /** Counts a send whose earlier attempt may have reached the chat: the one window where a part can appear twice. */
  countUncertainSend(): Promise<number>;
}

const ttlSeconds = 7 * 24 * 3600;
const unlockLua = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Takes the lock when it is free or already `owner`'s (a retried attempt taking over from its dead predecessor). */
const lockLua = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export class RedisReplyLedger implements TelegramReplyLedger {
  private readonly lockScript: RedisScript<number>;
  private readonly unlockScript: RedisScript<number>;

  constructor(private readonly redis: Redis, private readonly keyPrefix: string) {
    this.lockScript = defineScript(redis, 'aacTelegramLock', 1, lockLua);
    this.unlockScript = defineScript(redis, 'aacTelegramUnlock', 1, unlockLua);
  }

  async parts(replyId: string): Promise<Map<number, SentPart>> {
    const fields = await this.redis.hgetall(this.key(replyId, 'parts'));
    return new Map(
      Object.entries(fields).map(([index, value]) => [Number(index), value === 'pending' ? 'pending' : Number(value)]),
    );
  }

  markPending(replyId: string, index: number): Promise<void> {
    return this.setPart(replyId, index, 'pending');
  }

  markSent(replyId: string, index: number, messageId: number): Promise<void> {
    return this.setPart(replyId, index, String(messageId));
  }

  async unmark(replyId: string, index: number): Promise<void> {
    await this.redis.hdel(this.key(replyId, 'parts'), String(index));
  }

  async markFinal(replyId: string): Promise<void> {
    await this.redis.set(this.key(replyId, 'final'), '1', 'EX', ttlSeconds);
  }

  async isFinal(replyId: string): Promise<boolean> {
    return (await this.redis.exists(this.key(replyId, 'final'))) === 1;
  }

  async tryLock(replyId: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.lockScript(this.key(replyId, 'lock'), owner, Math.ceil(ttlMs))) === 1;
  }

  async unlock(replyId: string, owner: string): Promise<void> {
    await this.unlockScript(this.key(replyId, 'lock'), owner);
  }

  countUncertainSend(): Promise<number> {
    return this.redis.incr(`${this.keyPrefix}tg:uncertain-sends`);
  }

  private async setPart(replyId: string, index: number, value: string): Promise<void> {
    const key = this.key(replyId, 'parts');
    await this.redis.multi().hset(key, String(index), value).expire(key, ttlSeconds).exec();
  }

  private key(replyId: string, kind: 'parts' | 'final' | 'lock'): string {
    return `${this.keyPrefix}tg:reply:{${replyId}}:${kind}`;
  }
}
