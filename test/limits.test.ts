/**
 * Per-user limits shared by two API processes through Redis, the Telegram edge's share of the same budget, and one
 * process's cap on requests that hold a Redis connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as startApi, type ApiHandle } from '../api/main';
import { tooFastText } from '../channels/telegram/commands';
import { loadConfig } from '../lib/config';
import { LimitExceededError } from '../lib/errors';
import { WindowLimit } from '../lib/rate-limits';
import { limitSubject } from '../lib/token-budget';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { startTelegramServer, type TelegramServer } from '../scripts/simulators/telegram-server';

// A Telegram chat id is a workflow id in the namespace every suite shares: no other suite uses this one.
const chatId = 7401;

describe('limits per user and per process', () => {
  let telegram: TelegramServer;
  let engine: Engine;
  let second: ApiHandle;
  let alice: Record<string, string>;

  beforeAll(async () => {
    telegram = await startTelegramServer({ botUsername: 'limits_bot' });
    const limits = {
      RATE_LIMIT_MESSAGES_PER_MINUTE: '3',
      RATE_LIMIT_CONVERSATIONS_PER_HOUR: '2',
      RATE_LIMIT_TOKENS_PER_DAY: '400',
      RATE_LIMIT_STREAMS_PER_USER: '2',
      MAX_WAITING_REQUESTS: '3',
    };
    engine = await startEngine({ env: { ...limits, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot } });
    // A second API on the same Redis, task queue and secret (without the bot: one poller per token): the budget is
    // one, whichever replica is asked.
    second = await startApi(loadConfig({ ...engine.env, TELEGRAM_BOT_TOKEN: '' }));
    alice = await engine.as('alice');
  }, 60_000);
  afterAll(async () => {
    await second?.stop();
    await engine?.stop();
    await telegram?.close();
  });

  const chat = (api: string, headers: Record<string, string>, body: Record<string, unknown>) =>
    fetch(`${api}/api/v1/chat`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('when a user sends more messages per minute than allowed, over two replicas, then the excess is refused with 429 and nothing of it is taken', async () => {
    expect((await chat(engine.api.url, alice, { conversationId: 'a1', text: 'one', messageId: 'm1' })).status).toBe(200);
    expect((await chat(second.url, alice, { conversationId: 'a2', text: 'two', messageId: 'm2' })).status).toBe(200);
    expect((await chat(second.url, alice, { conversationId: 'a2', text: 'three', messageId: 'm3' })).status).toBe(200);

    const refused = await chat(engine.api.url, alice, { conversationId: 'a3', text: 'four', messageId: 'm4' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/3 messages in the last minute/);
    // Nothing half-accepted: the refused message's conversation was never started.
    expect((await engine.get('/api/v1/conversations/a3', alice)).status).toBe(404);

    // A retry of a message already taken is not a new message; another user has a budget of their own.
    expect((await chat(second.url, alice, { conversationId: 'a2', text: 'three', messageId: 'm3' })).status).toBe(200);
    expect((await chat(second.url, await engine.as('bob'), { conversationId: 'b1', text: 'hi' })).status).toBe(200);
  });

  it('when a user starts more new conversations per hour than allowed then a new one is refused, and existing ones go on', async () => {
    const carl = await engine.as('carl');
    expect((await chat(engine.api.url, carl, { conversationId: 'c-1', text: 'one' })).status).toBe(200);
    expect((await chat(second.url, carl, { conversationId: 'c-2', text: 'two' })).status).toBe(200);
    const refused = await chat(engine.api.url, carl, { conversationId: 'c-3', text: 'three' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/2 new conversations in the last hour/);
    expect((await engine.get('/api/v1/conversations/c-3', carl)).status).toBe(404);
    // The refused message gave its place back: a third message, to a conversation that exists, is taken.
    expect((await chat(second.url, carl, { conversationId: 'c-1', text: 'again' })).status).toBe(200);
  });

  it("when a user has spent the day's model tokens then the next message is refused until midnight UTC", async () => {
    const gina = await engine.as('gina');
    const long = 'a long question '.repeat(120); // the dev provider's answer and its prompt: well over 400 tokens
    const first = await chat(engine.api.url, gina, { conversationId: 'g-1', text: long });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { reply: { usage: { totalTokens: number } } }).reply.usage.totalTokens).toBeGreaterThan(400);
    const refused = await chat(second.url, gina, { conversationId: 'g-1', text: 'one more' });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/today's budget of 400 model tokens/);
    // Another user's budget is their own.
    expect((await chat(second.url, await engine.as('hal'), { conversationId: 'h-1', text: 'hi' })).status).toBe(200);
  });

  it('when sending to a conversation counted before fails then it stays counted, and a refused new one costs nothing', async () => {
    const limit = new WindowLimit(engine.redis, `${engine.config.redis.keyPrefix}unit:`, {
      name: 'conversations',
      limit: 1,
      windowMs: 3600_000,
      rememberMs: 60_000,
      refusal: () => 'over',
    });
    const fail = () => Promise.reject(new Error('Temporal is down'));
    expect(await limit.within('erin', 'first', async () => 'sent')).toBe('sent');
    await expect(limit.within('erin', 'first', fail)).rejects.toThrow('Temporal is down');
    await expect(limit.within('erin', 'second', async () => 'sent')).rejects.toThrow(LimitExceededError);
    // A new id whose send failed gave its place back: another user's budget shows the same.
    await expect(limit.within('fay', 'first', fail)).rejects.toThrow('Temporal is down');
    expect(await limit.within('fay', 'other', async () => 'sent')).toBe('sent');
  });

  it('when a user opens more event streams than allowed then the next is refused with 429 until one closes', async () => {
    const bob = await engine.as('bob');
    const open = async (api: string) => {
      const abort = new AbortController();
      const response = await fetch(`${api}/api/v1/conversations/b1/events`, { headers: bob, signal: abort.signal });
      return { response, close: () => abort.abort() };
    };
    const first = await open(engine.api.url);
    const secondStream = await open(second.url);
    expect([first.response.status, secondStream.response.status]).toEqual([200, 200]);
    const third = await open(second.url);
    expect(third.response.status).toBe(429);
    expect(third.response.headers.get('retry-after')).toBe('10');
    expect(((await third.response.json()) as { detail: string }).detail).toMatch(/2 event streams open/);

    first.close();
    // The closed stream's place frees once its read notices (a read blocks up to 10 s).
    const again = await eventually(async () => {
      const attempt = await open(engine.api.url);
      if (attempt.response.status === 200) return attempt;
      await attempt.response.body?.cancel();
      return undefined;
    }, { what: 'a stream after one closed', timeoutMs: 30_000 });
    again.close();
    secondStream.close();
  });

  it('when a process holds as many waiting requests as it may then a stream gets 503 and a chat is still taken, answered 202', async () => {
    // A process of its own, so that no stream of the tests before still holds a place.
    const capped = await startApi(loadConfig({ ...engine.env, MAX_WAITING_REQUESTS: '2', TELEGRAM_BOT_TOKEN: '' }));
    const streams = await Promise.all(['c1', 'c2'].map(async (user) => {
      const headers = await engine.as(user);
      expect((await chat(engine.api.url, headers, { conversationId: 'mine', text: 'hello' })).status).toBe(200);
      const abort = new AbortController();
      const response = await fetch(`${capped.url}/api/v1/conversations/mine/events`, { headers, signal: abort.signal });
      expect(response.status).toBe(200);
      return abort;
    }));
    const dave = await engine.as('dave');
    expect((await chat(capped.url, dave, { conversationId: 'mine', text: 'first' })).status).toBe(202);
    const refused = await fetch(`${capped.url}/api/v1/conversations/mine/events`, { headers: dave });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    // The 202's message was taken: its reply arrives.
    await eventually(async () => (await (await engine.get('/api/v1/conversations/mine', dave)).json()).turnCount === 1, {
      what: "dave's message answered",
    });
    for (const abort of streams) abort.abort();
    await capped.stop();
  });

  it('when a Telegram user writes faster than the limit then the excess gets a short reply and is not taken', async () => {
    for (const text of ['t1', 't2', 't3', 't4']) telegram.userSends({ from: { id: chatId, username: 'quick' }, text });
    const texts = () => telegram.chatMessages(chatId).map((m) => m.text);
    const tooFast = tooFastText(60).replace(/\d+ s\.$/, '');
    await eventually(() => texts().some((t) => t.startsWith(tooFast)), { what: 'the "too fast" reply' });
    await eventually(() => texts().filter((t) => t.startsWith('[dev provider]')).length >= 1, { what: 'the taken messages answered' });
    expect(texts().filter((t) => t.includes('t4'))).toEqual([]);
  });
});

describe('whose budget a conversation spends', () => {
  it.each([
    ['api:alice:demo', 'alice'],
    ['api:auth0|12:34:demo', 'auth0|12:34'],
    ['telegram:7401', 'tg:7401'],
    ['telegram:-1001234', 'tg:-1001234'],
  ])('when the conversation is %s then the subject is %s, as the edges check it', (conversationId, subject) => {
    expect(limitSubject(conversationId)).toBe(subject);
  });
});
