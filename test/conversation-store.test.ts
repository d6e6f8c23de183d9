import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../lib/conversation-events';
import { ConversationStore } from '../lib/conversation-store';
import { createLogger } from '../lib/logger';
import { createRedis, type Redis } from '../lib/redis';
import type { ContextSnapshot, Reply } from '../workflows/messages';
import { eventually } from './support/eventually';
import { testServices } from './support/services';

const prefix = `test:conversation-store:${randomUUID()}:`;
// Blocking-read connections copy this name, which is how a test sees that a read is really blocked.
const connectionName = `conversation-store-test-${randomUUID()}`;

function reply(replyId: string, inReplyTo: string[], text = `answer ${replyId}`): Reply {
  return {
    replyId,
    inReplyTo,
    text,
    provider: 'test',
    model: 'test-model',
    usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
    kind: 'answer',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

const snapshot: ContextSnapshot = {
  summary: 'they talked about the weather',
  window: [
    {
      number: 1,
      messages: [{ messageId: 'm1', text: 'hi', receivedAt: '2025-01-01T00:00:00.000Z' }],
      reply: reply('r1', ['m1']),
    },
  ],
  seenMessageIds: ['m1'],
  turnCount: 1,
  savedAt: '2025-01-01T00:00:01.000Z',
};

describe('ConversationStore', () => {
  let redis: Redis;
  let store: ConversationStore;
  let n = 0;
  /** A fresh conversation id per test, so tests never see each other's keys. */
  const conversation = () => `api:tester:${++n}`;

  /** Resolves once one of this suite's blocking reads is parked on the server. */
  const blockedReader = () =>
    eventually(
      async () => {
        const clients = (await redis.client('LIST')) as string;
        return clients.split('\n').some((line) => line.includes(`name=${connectionName} `) && / flags=b /.test(line));
      },
      { what: 'a blocked XREAD' },
    );

  beforeAll(() => {
    redis = createRedis(testServices().redisUrl, { connectionName });
    store = new ConversationStore(redis, prefix, { logger: createLogger({ level: 'silent', name: 'test' }) });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('when a context is saved then loading it returns the same snapshot', async () => {
    const id = conversation();

    await store.saveContext(id, snapshot);

    expect(await store.loadContext(id)).toEqual(snapshot);
    expect(await redis.ttl(`${prefix}conv:{${id}}:context`)).toBeGreaterThan(0);
  });

  it('when no context was saved then loading returns null', async () => {
    expect(await store.loadContext(conversation())).toBeNull();
  });

  it('when the saved context is corrupt then loading treats it as absent', async () => {
    const id = conversation();
    await redis.set(`${prefix}conv:{${id}}:context`, '{"summary": "cut off');

    expect(await store.loadContext(id)).toBeNull();
  });

  it('when events are appended then they read back in order with their stream ids', async () => {
    const id = conversation();
    const events: ConversationEvent[] = [
      { type: 'restart', replyId: 'r1', attempt: 1 },
      { type: 'token', replyId: 'r1', attempt: 1, index: 0, text: 'Hel' },
      { type: 'token', replyId: 'r1', attempt: 1, index: 1, text: 'lo' },
    ];

    const ids: string[] = [];
    for (const event of events) ids.push(await store.appendEvent(id, event));
    const read = await store.readEvents(id, '0-0', {});

    expect(read).toEqual(events.map((event, i) => ({ ...event, id: ids[i] })));
    expect(await store.lastEventId(id)).toBe(ids[2]);
  });

  it('when the stream is empty then the last event id is 0-0', async () => {
    expect(await store.lastEventId(conversation())).toBe('0-0');
  });

  it('when reading after an event id then only the later events come back', async () => {
    const id = conversation();
    const first = await store.appendEvent(id, { type: 'token', replyId: 'r1', attempt: 1, index: 0, text: 'a' });
    const second = await store.appendEvent(id, { type: 'token', replyId: 'r1', attempt: 1, index: 1, text: 'b' });
    const third = await store.appendEvent(id, { type: 'token', replyId: 'r1', attempt: 1, index: 2, text: 'c' });

    const afterFirst = await store.readEvents(id, first, {});
    const page = await store.readEvents(id, first, { count: 1 });
    const afterLast = await store.readEvents(id, third, {});

    expect(afterFirst.map((event) => event.id)).toEqual([second, third]);
    expect(page.map((event) => event.id)).toEqual([second]);
    expect(afterLast).toEqual([]);
  });

  it('when the stream holds corrupt or unknown entries then reading skips them', async () => {
    const id = conversation();
    const key = `${prefix}conv:{${id}}:events`;
    await redis.xadd(key, '*', 'type', 'token', 'data', 'not json');
    await redis.xadd(key, '*', 'type', 'from-a-newer-version', 'data', '{"type":"from-a-newer-version"}');
    await redis.xadd(key, '*', 'type', 'reply', 'data', '{"type":"reply","reply":{"replyId":"x"}}');
    const good = await store.appendEvent(id, { type: 'restart', replyId: 'r1', attempt: 2 });

    const read = await store.readEvents(id, '0-0', {});

    expect(read).toEqual([{ id: good, type: 'restart', replyId: 'r1', attempt: 2 }]);
  });

  it('when the after id is not an event id then reading is refused', async () => {
    await expect(store.readEvents(conversation(), 'yesterday', {})).rejects.toThrow(RangeError);
  });

  it('when the same reply is published twice then the stream holds it once', async () => {
    const id = conversation();
    const answer = reply('r-dup', ['m1']);

    const first = await store.publishReply(id, answer);
    const second = await store.publishReply(id, answer);
    const read = await store.readEvents(id, '0-0', {});

    expect(first).toEqual({ published: true });
    expect(second).toEqual({ published: false });
    expect(read).toEqual([{ id: expect.any(String), type: 'reply', reply: answer }]);
  });

  it('when a conversation has as many messages waiting as it may then the next is refused until a reply answers some', async () => {
    const id = conversation();
    const limits = { maxMessages: 3, maxBytes: 1_000 };

    const entered = [];
    for (const messageId of ['q1', 'q2', 'q3', 'q4']) entered.push(await store.enterQueue(id, messageId, 100, limits));
    const again = await store.enterQueue(id, 'q2', 100, limits);
    await store.publishReply(id, reply('r-q', ['q1', 'q2']));
    const afterReply = await store.enterQueue(id, 'q4', 100, limits);
    const answeredAgain = await store.enterQueue(id, 'q1', 100, limits);

    expect(entered).toEqual(['admitted', 'admitted', 'admitted', 'full']);
    expect(again).toBe('seen');
    expect(afterReply).toBe('admitted');
    expect(answeredAgain).toBe('seen');
  });

  it('when the waiting messages hold as many bytes as allowed then a larger one is refused, and a place given back is free again', async () => {
    const id = conversation();
    const limits = { maxMessages: 100, maxBytes: 1_000 };

    const first = await store.enterQueue(id, 'b1', 900, limits);
    const second = await store.enterQueue(id, 'b2', 200, limits);
    await store.leaveQueue(id, 'b1');
    const third = await store.enterQueue(id, 'b2', 200, limits);

    expect([first, second, third]).toEqual(['admitted', 'full', 'admitted']);
  });

  it('when a queue entry is older than an hour then it no longer holds a place', async () => {
    const id = conversation();
    const limits = { maxMessages: 1, maxBytes: 1_000 };
    await redis.hset(`${prefix}conv:{${id}}:queued`, 'lost', `10:${Date.now() - 2 * 3600_000}`);

    expect(await store.enterQueue(id, 'fresh', 10, limits)).toBe('admitted');
    expect(await redis.hexists(`${prefix}conv:{${id}}:queued`, 'lost')).toBe(0);
  });

  it('when a reply answers several messages then it is found by each of their ids', async () => {
    const id = conversation();
    const answer = reply('r-many', ['m1', 'm2', 'm3']);

    await store.publishReply(id, answer);

    for (const messageId of answer.inReplyTo) expect(await store.findReply(id, messageId)).toEqual(answer);
    expect(await store.findReply(id, 'm4')).toBeNull();
    for (const kind of ['events', 'replies', 'published']) {
      expect(await redis.ttl(`${prefix}conv:{${id}}:${kind}`)).toBeGreaterThan(0);
    }
  });

  it('when the reply is published while waiting then the wait returns it', async () => {
    const id = conversation();
    const afterId = await store.lastEventId(id);
    const answer = reply('r-wait', ['m1', 'm2']);

    const waiting = store.waitForReply(id, 'm2', afterId, 30_000);
    await blockedReader();
    await store.publishReply(id, reply('r-other', ['m0']));
    await store.appendEvent(id, { type: 'token', replyId: 'r-wait', attempt: 1, index: 0, text: 'x' });
    await store.publishReply(id, answer);

    expect(await waiting).toEqual(answer);
  });

  it('when the reply was already published then the wait returns it at once', async () => {
    const id = conversation();
    const answer = reply('r-early', ['m1']);
    await store.publishReply(id, answer);
    const afterId = await store.lastEventId(id);

    expect(await store.waitForReply(id, 'm1', afterId, 30_000)).toEqual(answer);
  });

  it('when no reply comes then the wait returns null after its timeout', async () => {
    const id = conversation();
    await store.publishReply(id, reply('r-unrelated', ['m0']));

    expect(await store.waitForReply(id, 'm1', '0-0', 200)).toBeNull();
  });

  it('when a read blocks then other commands still go through', async () => {
    const id = conversation();
    const afterId = await store.lastEventId(id);

    const reading = store.readEvents(id, afterId, { blockMs: 30_000 });
    await blockedReader();
    // On a shared connection these would queue behind the blocked read until it timed out (and it would see nothing).
    await store.saveContext(id, snapshot);
    const appended = await store.appendEvent(id, { type: 'restart', replyId: 'r1', attempt: 1 });

    expect(await reading).toEqual([{ id: appended, type: 'restart', replyId: 'r1', attempt: 1 }]);
  });

  it('when the shared client is closed then a blocked read ends instead of waiting out its block', async () => {
    const own = createRedis(testServices().redisUrl, { connectionName });
    const closing = new ConversationStore(own, prefix, { logger: createLogger({ level: 'silent', name: 'test' }) });
    const reading = closing.readEvents(conversation(), '0-0', { blockMs: 30_000 });
    await blockedReader();

    own.disconnect();

    await expect(reading).rejects.toThrow(/closed/i);
  });

  it('when more events than the cap are appended then the oldest are trimmed', async () => {
    const id = conversation();
    const capped = new ConversationStore(redis, prefix, { maxEvents: 10, logger: createLogger({ level: 'silent', name: 'test' }) });

    for (let index = 0; index < 500; index += 1) {
      await capped.appendEvent(id, { type: 'token', replyId: 'r1', attempt: 1, index, text: '.' });
    }

    // `MAXLEN ~` trims whole stream nodes (100 entries by default), so the length lands near the cap, not on it.
    expect(await redis.xlen(`${prefix}conv:{${id}}:events`)).toBeLessThan(500);
  });
});
