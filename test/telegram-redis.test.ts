/**
 * The Redis side of Telegram delivery, against real Redis: the reply ledger (parts, final flag, lock) and the
 * pacer that keeps every worker inside Telegram's limits, and the outbox's order of pacing and marking.
 */
import { randomUUID } from 'node:crypto';
import { Api } from 'grammy';
import { afterAll, describe, expect, it } from 'vitest';
import { GrammyOutbox } from '../channels/telegram/outbox';
import { TelegramPacer } from '../channels/telegram/pacer';
import { RedisReplyLedger } from '../channels/telegram/reply-ledger';
import { RateLimitedError } from '../lib/errors';
import { createLogger } from '../lib/logger';
import { createRedis } from '../lib/redis';
import { startTelegramServer } from '../scripts/simulators/telegram-server';
import { testServices } from './support/services';

const redis = createRedis(testServices().redisUrl);
const prefix = () => `test-tg-${randomUUID().slice(0, 8)}:`;

afterAll(() => redis.disconnect());

describe('the Telegram reply ledger', () => {
  it('records parts as pending, then sent, and forgets a pending mark on request', async () => {
    const ledger = new RedisReplyLedger(redis, prefix());
    await ledger.markPending('r1', 0);
    await ledger.markPending('r1', 1);
    await ledger.markSent('r1', 0, 42);
    await ledger.unmark('r1', 1);
    expect(await ledger.parts('r1')).toEqual(new Map([[0, 42]]));
    await ledger.markPending('r1', 1);
    expect((await ledger.parts('r1')).get(1)).toBe('pending');
    expect(await ledger.parts('other')).toEqual(new Map());
  });

  it('lets one owner hold a reply lock, takes it over for the same owner, and frees it only for its owner', async () => {
    const ledger = new RedisReplyLedger(redis, prefix());
    expect(await ledger.tryLock('r1', 'preview', 10_000)).toBe(true);
    expect(await ledger.tryLock('r1', 'final:r1', 10_000)).toBe(false);
    await ledger.unlock('r1', 'final:r1');
    expect(await ledger.tryLock('r1', 'final:r1', 10_000)).toBe(false);
    await ledger.unlock('r1', 'preview');
    expect(await ledger.tryLock('r1', 'final:r1', 10_000)).toBe(true);
    // A retried attempt of the final delivery (same owner) takes over the lock its killed predecessor held.
    expect(await ledger.tryLock('r1', 'final:r1', 10_000)).toBe(true);
    expect(await ledger.tryLock('r1', 'preview', 10_000)).toBe(false);
  });

  it('keeps the final flag and counts uncertain sends', async () => {
    const ledger = new RedisReplyLedger(redis, prefix());
    expect(await ledger.isFinal('r1')).toBe(false);
    await ledger.markFinal('r1');
    expect(await ledger.isFinal('r1')).toBe(true);
    expect(await ledger.countUncertainSend()).toBe(1);
    expect(await ledger.countUncertainSend()).toBe(2);
  });
});

describe('the Telegram pacer', () => {
  const limits = { sendsPerSecond: 25, privateChatGapMs: 60_000, groupChatGapMs: 120_000 };

  it('gives a chat one turn per gap, and other chats their own turns', async () => {
    const pacer = new TelegramPacer(redis, prefix(), limits);
    expect(await pacer.tryTake(7)).toBe(0);
    const wait = await pacer.tryTake(7);
    expect(wait).toBeGreaterThan(50_000);
    expect(wait).toBeLessThanOrEqual(60_000);
    expect(await pacer.tryTake(8)).toBe(0);
    // Groups (negative ids) wait longer.
    expect(await pacer.tryTake(-100)).toBe(0);
    expect(await pacer.tryTake(-100)).toBeGreaterThan(60_000);
  });

  it('holds a chat back for a 429 retry_after, without holding back other chats', async () => {
    const pacer = new TelegramPacer(redis, prefix(), { ...limits, privateChatGapMs: 0 });
    await pacer.pause(7, 90_000);
    expect(await pacer.tryTake(7)).toBeGreaterThan(80_000);
    expect(await pacer.tryTake(8)).toBe(0);
    // A shorter pause never shortens a longer one.
    await pacer.pause(7, 1_000);
    expect(await pacer.tryTake(7)).toBeGreaterThan(80_000);
  });

  it('caps sends per second across all chats', async () => {
    const pacer = new TelegramPacer(redis, prefix(), { ...limits, sendsPerSecond: 3, privateChatGapMs: 0 });
    const waits = [];
    for (let chat = 1; chat <= 8; chat++) waits.push(await pacer.tryTake(chat));
    // Eight quick tries span at most two one-second windows: three turns each at most; the rest are told to wait.
    const granted = waits.filter((w) => w === 0).length;
    expect(granted).toBeGreaterThanOrEqual(3);
    expect(granted).toBeLessThanOrEqual(6);
    for (const wait of waits.filter((w) => w > 0)) expect(wait).toBeLessThanOrEqual(1000);
  });
});

describe('the Telegram outbox', () => {
  it('runs what must precede a send (the pending mark) only once the chat\'s turn is taken, never while it waits', async () => {
    const telegram = await startTelegramServer();
    try {
      const pacer = new TelegramPacer(redis, prefix(), { sendsPerSecond: 25, privateChatGapMs: 60_000, groupChatGapMs: 120_000 });
      const outbox = new GrammyOutbox(new Api(telegram.token, { apiRoot: telegram.apiRoot }), pacer, createLogger({ level: 'silent', name: 'test' }));
      const chat = 501;
      telegram.userSends({ from: { id: chat }, text: 'hello' });
      const seenBeforeRequest: number[] = [];
      const beforeRequest = async () => void seenBeforeRequest.push(telegram.chatMessages(chat).length);

      const id = await outbox.send(chat, 'first', { maxWaitMs: 0, beforeRequest });
      expect(seenBeforeRequest).toEqual([0]);
      expect(telegram.chatMessages(chat).map((m) => [m.message_id, m.text])).toEqual([[id, 'first']]);
      // The chat's next turn is a minute away: the send gives up without a request, and nothing was marked.
      await expect(outbox.send(chat, 'second', { maxWaitMs: 0, beforeRequest })).rejects.toBeInstanceOf(RateLimitedError);
      expect(seenBeforeRequest).toEqual([0]);
      expect(telegram.chatMessages(chat)).toHaveLength(1);
    } finally {
      await telegram.close();
    }
  });
});
