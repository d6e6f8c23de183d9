/**
 * Keeps the bot inside Telegram's limits across every worker, with Redis as the shared clock and counter:
 * at most `sendsPerSecond` sends/edits bot-wide, one per `privateChatGapMs` in a private chat and one per
 * `groupChatGapMs` in a group, and nothing to a chat while a 429's `retry_after` runs for it (so a flood is
 * answered by silence, not by a retry storm, and one busy group does not stall every other chat).
 */
import { defineScript, type Redis, type RedisScript } from '../../lib/redis';

export interface PacerLimits {
  sendsPerSecond: number;
  privateChatGapMs: number;
  groupChatGapMs: number;
}

/**
 * Returns 0 and takes the slot when the chat may send now; else the milliseconds until it may.
 * KEYS: the chat's next-send time, the bot-wide `<second>:<count>`. ARGV: chat gap (ms), sends per second.
 */
const takeLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local chat = tonumber(redis.call('GET', KEYS[1]) or '0')
if chat > now then return chat - now end
local second = math.floor(now / 1000)
local used = 0
local window = redis.call('GET', KEYS[2])
if window then
  local s, n = string.match(window, '(%d+):(%d+)')
  if tonumber(s) == second then used = tonumber(n) end
end
if used >= tonumber(ARGV[2]) then return (second + 1) * 1000 - now end
redis.call('SET', KEYS[2], second .. ':' .. (used + 1), 'PX', 2000)
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + 1000)
return 0
`;

/** Moves the chat's next-send time to ARGV[1] ms from now (never earlier than it was). */
const pauseLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
if untilMs > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]) + 1000)
end
return untilMs
`;

export class TelegramPacer {
  private readonly takeScript: RedisScript<number>;
  private readonly pauseScript: RedisScript<number>;

  constructor(redis: Redis, private readonly keyPrefix: string, private readonly limits: PacerLimits) {
    this.takeScript = defineScript(redis, 'aacTelegramTake', 2, takeLua);
    this.pauseScript = defineScript(redis, 'aacTelegramPause', 1, pauseLua);
  }

  /** 0 when `chatId` may send now (the slot is taken), else how long to wait. Group and channel ids are negative. */
  async tryTake(chatId: number): Promise<number> {
    const gap = Math.ceil(chatId < 0 ? this.limits.groupChatGapMs : this.limits.privateChatGapMs);
    return this.takeScript(this.chatKey(chatId), this.key('window'), gap, this.limits.sendsPerSecond);
  }

  /** Telegram answered 429 for this chat: nothing goes to it for `ms`. */
  async pause(chatId: number, ms: number): Promise<void> {
    await this.pauseScript(this.chatKey(chatId), Math.ceil(ms));
  }

  private chatKey(chatId: number): string {
    return this.key(`chat:${chatId}`);
  }

  private key(name: string): string {
    // One hash tag: the script touches a chat's key and the bot-wide window together (one Cluster slot).
    return `${this.keyPrefix}tg:{pace}:${name}`;
  }
}
