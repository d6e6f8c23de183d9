/**
 * The edge API as REST shows it (lib/conversations.ts): a user's conversation list, naming a conversation by its full
 * id, and a deletion that leaves nothing of the conversation behind in Redis, the archive or Temporal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobStore } from '../lib/blob-store';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';

describe('the edge API over REST', () => {
  let engine: Engine;
  let alice: Record<string, string>;
  // Users of their own: other suites' users share the Temporal server, whose visibility store the list reads.
  const user = `alice-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    // Every turn archived at once, so that a deletion has archived turns to remove.
    engine = await startEngine({ app: { conversation: { archive_every_turns: 1 } } });
    alice = await engine.as(user);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it("when a user lists their conversations then they get their own, newest first, titled by their first message", async () => {
    expect((await engine.post('/api/v1/chat', { conversationId: 'older', text: 'Plan a   trip\nto Lisbon' }, alice)).status).toBe(200);
    expect((await engine.post('/api/v1/chat', { conversationId: 'newer', text: 'What is a monad?' }, alice)).status).toBe(200);
    expect((await engine.post('/api/v1/chat', { conversationId: 'newer', text: 'Shorter, please' }, alice)).status).toBe(200);
    expect((await engine.post('/api/v1/chat', { conversationId: 'bobs', text: 'secret' }, await engine.as('bob'))).status).toBe(200);

    // Temporal's visibility store is eventually consistent.
    const listed = await eventually(
      async () => {
        const body = await (await engine.get('/api/v1/conversations', alice)).json();
        return body.conversations.length === 2 ? body.conversations : undefined;
      },
      { what: "alice's two conversations in the list" },
    );
    expect(listed.map((c: { id: string; title: string; channel: string }) => [c.id, c.title, c.channel])).toEqual([
      [`api:${user}:newer`, 'What is a monad?', 'api'],
      [`api:${user}:older`, 'Plan a trip to Lisbon', 'api'],
    ]);

    const operator = await engine.as('olga', 'operator');
    const seen = await (await engine.get(`/api/v1/conversations?user=${user}`, operator)).json();
    expect(seen.conversations.map((c: { id: string }) => c.id).sort()).toEqual([`api:${user}:newer`, `api:${user}:older`]);
    const nosy = await (await engine.get(`/api/v1/conversations?user=${user}`, await engine.as('bob'))).json();
    expect(nosy.conversations).toEqual([]);
  });

  it('when a conversation is named by its full id then its owner and operators reach it and other users get 404', async () => {
    expect((await engine.post('/api/v1/chat', { conversationId: 'named', text: 'hello' }, alice)).status).toBe(200);
    const path = `/api/v1/conversations/${encodeURIComponent(`api:${user}:named`)}/messages`;

    const own = await engine.get(path, alice);
    expect(own.status).toBe(200);
    expect((await own.json()).messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect((await engine.get(path, await engine.as('olga', 'operator'))).status).toBe(200);

    const notYours = await engine.get(path, await engine.as('bob'));
    const missing = await engine.get(`/api/v1/conversations/${encodeURIComponent('api:bob:nothing')}/messages`, await engine.as('bob'));
    expect([notYours.status, missing.status]).toEqual([404, 404]);
    // The same answer as for a conversation that does not exist, but for the id and path it echoes.
    const { instance: _, ...refused } = await notYours.json();
    const { instance: __, ...absent } = await missing.json();
    expect(refused).toEqual({ ...absent, detail: absent.detail.replace('nothing', 'named') });
    // Telegram chats are nobody's by token: only operators name them.
    expect((await engine.get(`/api/v1/conversations/${encodeURIComponent('telegram:42')}`, alice)).status).toBe(404);
  });

  it('when an admin deletes a conversation then nothing with its id or text is left in Redis, the archive or Temporal', async () => {
    const secret = `a very private remark ${Date.now()}`;
    for (const text of [secret, 'and another']) {
      expect((await engine.post('/api/v1/chat', { conversationId: 'forget-me', text }, alice)).status).toBe(200);
    }
    const workflowId = `api:${user}:forget-me`;
    const blobs = createBlobStore(engine.config);
    const archived = () => blobs.list(`conversations/${encodeURIComponent(workflowId)}/`);
    await eventually(async () => (await archived()).length > 0, { what: 'archived turns' });

    const deleted = await engine.delete(`/api/v1/conversations/${encodeURIComponent(workflowId)}`, await engine.as('ada', 'admin'));
    expect(deleted.status).toBe(200);
    expect((await deleted.json()).deleted.runs).toBeGreaterThanOrEqual(1);

    expect(await archived()).toEqual([]);
    // Redis: no key names it, and no value holds its text or id, outside the audit log (which records the deletion)
    // and the hour's count of new conversations (which must not forget it: delete and start again is still new).
    const { keyPrefix } = engine.config.redis;
    const kept = (key: string) => key.startsWith(`${keyPrefix}{audit}:`) || key === `${keyPrefix}limits:conversations:{${user}}`;
    const keys = (await engine.redis.keys(`${keyPrefix}*`)).filter((key) => !kept(key));
    expect(keys.filter((key) => key.includes(workflowId) || key.includes('forget-me'))).toEqual([]);
    const values = await Promise.all(keys.map((key) => dump(engine, key)));
    expect(values.filter((value) => value.includes(secret) || value.includes('forget-me'))).toEqual([]);
    // Temporal deletes the runs' histories in the background.
    await eventually(
      async () => {
        const runs = [];
        for await (const run of engine.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
        const described = await engine.temporal.workflow.getHandle(workflowId).describe().then(() => true, () => false);
        return runs.length === 0 && !described;
      },
      { what: 'the runs gone from Temporal (list and describe)', timeoutMs: 120_000 },
    );
    expect((await engine.get('/api/v1/conversations/forget-me', alice)).status).toBe(404);
    const list = await (await engine.get('/api/v1/conversations', alice)).json();
    expect(list.conversations.map((c: { id: string }) => c.id)).not.toContain(workflowId);
  }, 180_000); // waits for Temporal to delete the histories
});

/** Whatever a key holds, as text. */
async function dump(engine: Engine, key: string): Promise<string> {
  const type = await engine.redis.type(key);
  if (type === 'string') return (await engine.redis.get(key)) ?? '';
  if (type === 'hash') return JSON.stringify(await engine.redis.hgetall(key));
  if (type === 'set') return JSON.stringify(await engine.redis.smembers(key));
  if (type === 'zset') return JSON.stringify(await engine.redis.zrange(key, '0', '-1'));
  if (type === 'list') return JSON.stringify(await engine.redis.lrange(key, '0', '-1'));
  if (type === 'stream') return JSON.stringify(await engine.redis.xrange(key, '-', '+'));
  return '';
}
