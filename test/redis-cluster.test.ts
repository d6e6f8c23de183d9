/**
 * Redis Cluster (`REDIS_CLUSTER_NODES`) against a local cluster of three masters: the conversation store, its event
 * streams and blocking waits, the Telegram pacer and reply ledger, and a whole engine chatting through it. Keys of
 * many conversations land on every master, so commands are routed across nodes, and each multi-key script or
 * transaction stays within one hash slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramPacer } from '../channels/telegram/pacer';
import { RedisReplyLedger } from '../channels/telegram/reply-ledger';
import { ConversationStore } from '../lib/conversation-store';
import { createLogger } from '../lib/logger';
import { connectRedis, createRedis, type Redis } from '../lib/redis';
import type { ContextSnapshot, Reply } from '../workflows/messages';
import { startEngine, type Engine } from './support/engine';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster';

let cluster: RedisCluster;
let redis: Redis;
const prefix = `cluster-${Date.now()}:`;
const logger = createLogger({ level: 'silent', name: 'redis-cluster-test' });

beforeAll(async () => {
  cluster = await startRedisCluster();
  redis = connectRedis({ url: 'redis://127.0.0.1:6379', clusterNodes: cluster.nodes }, { logger });
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

function reply(replyId: string, inReplyTo: string[]): Reply {
  const usage = { promptTokens: 1, completionTokens: 1, totalTokens: 2 };
  return { replyId, inReplyTo, text: `reply ${replyId}`, provider: 'p', model: 'm', usage, kind: 'answer', createdAt: new Date().toISOString() };
}

/** Keys under `keyPrefix` per master, read from each node directly. */
async function keysPerNode(keyPrefix = prefix): Promise<number[]> {
  return Promise.all(
    cluster.nodes.map(async (node) => {
      const client = createRedis(`redis://${node}`);
      try {
        return (await client.keys(`${keyPrefix}*`)).length;
      } finally {
        client.disconnect();
      }
    }),
  );
}

describe('the conversation store on a Redis Cluster', () => {
  it('when many conversations write then their keys spread over every master and each reads back whole', async () => {
    const store = new ConversationStore(redis, prefix, { logger });
    const ids = Array.from({ length: 30 }, (_, i) => `api:cluster:c${i}`);
    for (const [i, id] of ids.entries()) {
      const snapshot: ContextSnapshot = { summary: `summary ${i}`, window: [], seenMessageIds: [`m${i}`], turnCount: i, savedAt: new Date().toISOString() };
      await store.saveContext(id, snapshot);
      await store.appendEvents(id, [
        { type: 'token', replyId: `r${i}`, attempt: 1, index: 0, text: 'a' },
        { type: 'token', replyId: `r${i}`, attempt: 1, index: 1, text: 'b' },
      ]);
      expect(await store.enterQueue(id, `m${i}`, 10, { maxMessages: 5, maxBytes: 1000 })).toBe('admitted');
      expect((await store.publishReply(id, reply(`r${i}`, [`m${i}`]))).published).toBe(true);
    }

    expect((await keysPerNode()).every((count) => count > 0)).toBe(true);
    for (const [i, id] of ids.entries()) {
      expect((await store.loadContext(id))?.summary).toBe(`summary ${i}`);
      expect((await store.readEvents(id, '0-0')).map((e) => e.type)).toEqual(['token', 'token', 'reply']);
      expect((await store.findReply(id, `m${i}`))?.replyId).toBe(`r${i}`);
      // Answered: its queue place is free again, and a redelivery counts as seen.
      expect(await store.enterQueue(id, `m${i}`, 10, { maxMessages: 5, maxBytes: 1000 })).toBe('seen');
    }
    store.close();
  });

  it('when a reply is published while a client waits then the blocking wait returns it', async () => {
    const store = new ConversationStore(redis, prefix, { logger });
    const id = 'api:cluster:waiting';
    const after = await store.lastEventId(id);
    const waiting = store.waitForReply(id, 'm-wait', after, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await store.publishReply(id, reply('r-wait', ['m-wait']));
    expect((await waiting)?.replyId).toBe('r-wait');
    store.close();
  });
});

describe('Telegram delivery state on a Redis Cluster', () => {
  it('when the pacer and the ledger run there then turns, locks, parts and flags behave as on one server', async () => {
    const pacer = new TelegramPacer(redis, prefix, { sendsPerSecond: 25, privateChatGapMs: 60_000, groupChatGapMs: 120_000 });
    expect(await pacer.tryTake(7)).toBe(0);
    expect(await pacer.tryTake(7)).toBeGreaterThan(50_000);
    expect(await pacer.tryTake(8)).toBe(0);

    const ledger = new RedisReplyLedger(redis, prefix);
    expect(await ledger.tryLock('r1', 'preview', 10_000)).toBe(true);
    expect(await ledger.tryLock('r1', 'final:r1', 10_000)).toBe(false);
    await ledger.unlock('r1', 'preview');
    await ledger.markPending('r1', 0);
    await ledger.markSent('r1', 0, 42);
    expect(await ledger.parts('r1')).toEqual(new Map([[0, 42]]));
    await ledger.markFinal('r1');
    expect(await ledger.isFinal('r1')).toBe(true);
  });
});

describe('an engine on a Redis Cluster', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine({ archive: 'directory', env: { REDIS_CLUSTER_NODES: cluster.nodes.join(',') } });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('when a user chats then replies come back over HTTP and SSE, and the history reads them', async () => {
    for (const text of ['hello cluster', 'and again']) {
      const response = await engine.post('/api/v1/chat', { conversationId: 'on-cluster', text });
      expect(response.status).toBe(200);
      expect((await response.json()).reply.text).toContain(text);
    }
    const history = (await (await engine.get('/api/v1/conversations/on-cluster/messages')).json()).messages;
    expect(history.map((m: { text: string }) => m.text)).toEqual(expect.arrayContaining(['hello cluster', 'and again']));
    const events = await engine.get('/api/v1/conversations/on-cluster/events?after=0-0');
    const reader = events.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    expect(new TextDecoder().decode(value)).toContain('event: ');
    // Everything went to the cluster, nothing to the single server REDIS_URL names.
    const inCluster = (await keysPerNode(engine.config.redis.keyPrefix)).reduce((a, b) => a + b, 0);
    expect(inCluster).toBeGreaterThan(0);
    expect(await engine.redis.keys(`${engine.config.redis.keyPrefix}*`)).toEqual([]);
  });
});
