/**
 * No input the API accepts can kill a conversation: Temporal's payload limits hold on every path when a user floods
 * a conversation with maximum-size messages, large texts travel by reference, and the edge refuses (429) what the
 * engine would not hold. Real Temporal, Redis and MinIO; a local OpenAI-compatible model; encryption on, so sizes
 * are measured after the whole data converter.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conversationSettings } from '../lib/config';
import { generateKeySpec } from '../lib/key-ring';
import { messageSignal, snapshotQuery, type InboundMessage } from '../workflows/messages';
import { encodedBytes, inlineTextMaxBytes, payloadBudgetBytes } from '../workflows/payload-budget';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { recordingHistories, saveHistories } from './support/histories';
import { formatSizes, payloadSizes } from './support/payload-sizes';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';

/** A maximum-size message: `max_text_chars` (16,000) of CJK text, 48,000 bytes of UTF-8, ~48 KB on the wire. */
const maxMessage = (seed: string) => `${seed}:`.padEnd(16_000, '漢字');

/** Every reply in the conversation's history: its id and the message ids it answered. */
async function answered(engine: Engine, clientId: string): Promise<{ replyId: string; inReplyTo: string[] }[]> {
  const replies: { replyId: string; inReplyTo: string[] }[] = [];
  let after = 0;
  for (;;) {
    const page = await (await engine.get(`/api/v1/conversations/${clientId}/messages?after=${after}&limit=200`)).json();
    for (const m of page.messages) if (m.role === 'assistant') replies.push({ replyId: m.id, inReplyTo: m.inReplyTo });
    if (page.nextAfter === null) return replies;
    after = page.nextAfter;
  }
}

/** Waits until every id has a reply, then checks none was answered twice. */
async function expectEachAnsweredOnce(engine: Engine, clientId: string, ids: string[]): Promise<void> {
  const replies = await eventually(
    async () => {
      const found = await answered(engine, clientId);
      const covered = new Set(found.flatMap((r) => r.inReplyTo));
      return ids.every((id) => covered.has(id)) && found;
    },
    { timeoutMs: 180_000, intervalMs: 500, what: `replies to all ${ids.length} messages` },
  );
  const counts = new Map<string, number>();
  for (const id of replies.flatMap((r) => r.inReplyTo)) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
  expect(new Set(replies.map((r) => r.replyId)).size).toBe(replies.length);
}

/**
 * One engine (encrypted unless `plain`) and model server per describe block. Plain suites record their
 * conversations' histories for the replay test with RECORD_HISTORIES=1 (fixtures are replayed without keys).
 */
function suiteWith(conversation: Record<string, unknown>, options: { plain?: string } = {}) {
  const suite = { server: undefined as unknown as OpenAiServer, engine: undefined as unknown as Engine, clientId: '' };
  beforeAll(async () => {
    suite.server = await startOpenAiServer({ apiKey: 'sk-test' });
    suite.engine = await startEngine({
      providers: [{ name: 'fake', type: 'openai-compatible', endpoint: suite.server.url, api_key: 'sk-test', model: 'test-model', max_tokens: 40_000, timeout: '60s' }],
      app: { conversation: { idle_timeout: '10m', ...conversation } },
      env: options.plain ? {} : { ENCRYPTION_KEYS: generateKeySpec('k1') },
    });
  });
  afterAll(async () => {
    await suite.engine?.stop();
    await suite.server?.close();
  });
  let n = 0;
  beforeEach(() => {
    suite.clientId = `${options.plain ?? 'sealed'}${++n}-${Date.now()}`;
    suite.server.reset();
    // Short answers by default: what is large here is what users send.
    suite.server.setAnswer((body) => `I read ${(body.messages ?? []).filter((m) => m.role === 'user').length} user messages.`);
  });
  afterEach(async () => {
    if (options.plain && recordingHistories()) await saveHistories(suite.engine.temporal, suite.engine.workflowId(suite.clientId), `${options.plain}-${n}`);
  });
  return suite;
}

describe('a conversation flooded with maximum-size messages', () => {
  const suite = suiteWith({});

  it('when 45 maximum-size CJK messages arrive during a slow turn then every one is answered exactly once and no payload exceeds the budget', async () => {
    const { engine, server } = suite;
    const clientId = `flood-${Date.now()}`;
    server.setDelayMs(300);
    const ids = Array.from({ length: 46 }, (_, i) => `flood-${i}`);
    const first = await engine.post('/api/v1/chat', { conversationId: clientId, text: 'start', messageId: ids[0], wait: false });
    expect(first.status).toBe(202);
    await eventually(() => server.inFlight > 0, { what: 'the first, slow turn' });
    server.setDelayMs(20);
    const statuses = await Promise.all(
      ids.slice(1).map((id) => engine.post('/api/v1/chat', { conversationId: clientId, text: maxMessage(id), messageId: id, wait: false }).then((r) => r.status)),
    );
    expect(statuses).toEqual(ids.slice(1).map(() => 202));

    await expectEachAnsweredOnce(engine, clientId, ids);
    const history = (await (await engine.get(`/api/v1/conversations/${clientId}/messages?limit=200`)).json()).messages;
    const asked = history.filter((m: { role: string }) => m.role === 'user');
    // Sent concurrently, so they arrive in any order; each must be there, whole, once.
    const texts: string[] = asked.map((m: { text: string }) => m.text);
    expect(texts.length).toBe(ids.length);
    expect(new Set(texts)).toEqual(new Set(['start', ...ids.slice(1).map(maxMessage)]));

    const sizes = await payloadSizes(engine.temporal, engine.workflowId(clientId));
    console.info(`largest payload per path in the flood (budget ${payloadBudgetBytes} B):\n${formatSizes(sizes, payloadBudgetBytes)}`);
    expect(sizes.runs.filter((run) => run.status !== 'RUNNING' && run.status !== 'CONTINUED_AS_NEW')).toEqual([]);
    expect(sizes.offloaded).toBe(0);
    expect(Math.max(...sizes.largest.values())).toBeLessThan(payloadBudgetBytes);
    // Coalescing is bounded in bytes: no turn asked the model about more than two maximum-size messages.
    const userMessagesPerRequest = server.chatRequests.map((r) => (r.body?.messages ?? []).filter((m) => m.role === 'user').length);
    expect(server.chatRequests.length).toBeGreaterThanOrEqual(23);
    expect(userMessagesPerRequest.every((n) => n >= 1)).toBe(true);
  }, 240_000);

  it('when recent turns are all maximum-size then the snapshot query stays small and the API shows them whole', async () => {
    const { engine } = suite;
    const clientId = `snapshot-${Date.now()}`;
    for (let i = 0; i < 4; i++) {
      expect((await engine.post('/api/v1/chat', { conversationId: clientId, text: maxMessage(`s${i}`) })).status).toBe(200);
    }
    const snapshot = await engine.temporal.workflow.getHandle(engine.workflowId(clientId)).query(snapshotQuery);
    expect(encodedBytes(snapshot)).toBeLessThan(payloadBudgetBytes / 8);
    const shown = await (await engine.get(`/api/v1/conversations/${clientId}`)).json();
    expect(shown.recentTurns.length).toBeGreaterThan(0);
    for (const turn of shown.recentTurns) expect(turn.messages[0].text).toBe(maxMessage(`s${turn.number - 1}`));
  });
});

describe('texts carried by reference', () => {
  const suite = suiteWith({}, { plain: 'large-texts' });

  it('when a single message is at the size limit then its reply comes back and the history shows it whole, while Temporal carries a reference', async () => {
    const { engine, server } = suite;
    const { clientId } = suite;
    const text = maxMessage('one');
    const response = await engine.post('/api/v1/chat', { conversationId: clientId, text });
    expect(response.status).toBe(200);
    expect((await response.json()).reply.text).toBe('I read 1 user messages.');
    const sent = server.chatRequests.at(-1)!.body!.messages!;
    expect(sent.at(-1)).toEqual({ role: 'user', content: text });
    const history = (await (await engine.get(`/api/v1/conversations/${clientId}/messages`)).json()).messages;
    expect(history[0].text).toBe(text);
    const sizes = await payloadSizes(engine.temporal, engine.workflowId(clientId));
    expect(sizes.largest.get('signal message')).toBeLessThan(2_000);
  });

  it('when the model answers at its largest output then the whole reply reaches the client and the history, by reference inside Temporal', async () => {
    const { engine, server } = suite;
    const { clientId } = suite;
    // 3,000 tokens of ten CJK characters: ~90 KB, nearly three times the inline limit.
    const long = Array.from({ length: 3_000 }, (_, i) => `${'語'.repeat(9)}${i % 10} `).join('');
    server.setAnswer(() => long);
    const response = await engine.post('/api/v1/chat', { conversationId: clientId, text: 'write me a novel' });
    expect(response.status).toBe(200);
    const { reply } = await response.json();
    expect(reply.text).toBe(long);
    expect(reply.textRef).toBeUndefined();
    const history = (await (await engine.get(`/api/v1/conversations/${clientId}/messages`)).json()).messages;
    expect(history[1].text).toBe(long);
    const sizes = await payloadSizes(engine.temporal, engine.workflowId(clientId));
    expect(Buffer.byteLength(long)).toBeGreaterThan(inlineTextMaxBytes);
    // The model activity publishes the whole reply itself; Temporal carries only the reference.
    expect(sizes.largest.get('generateReply result')).toBeLessThan(2_000);
  });
});

describe('the edge refuses what a conversation could not hold', () => {
  const suite = suiteWith({ max_queued_messages: 5 });

  it('when more messages arrive than the queue may hold then the excess gets 429 with Retry-After, and every accepted one is answered once', async () => {
    const { engine, server } = suite;
    const clientId = `capped-${Date.now()}`;
    // The first answer takes seconds (five pieces), so no place frees up while the others are sent.
    server.setDelayMs(1_500);
    const ids = Array.from({ length: 12 }, (_, i) => `cap-${i}`);
    await engine.post('/api/v1/chat', { conversationId: clientId, text: 'start', messageId: ids[0], wait: false });
    await eventually(() => server.inFlight > 0, { what: 'the first, slow turn' });
    const responses: Awaited<ReturnType<Engine['post']>>[] = [];
    for (const id of ids.slice(1)) responses.push(await engine.post('/api/v1/chat', { conversationId: clientId, text: maxMessage(id), messageId: id, wait: false }));
    const accepted = [ids[0]!, ...ids.slice(1).filter((_, i) => responses[i]!.status === 202)];
    const refused = responses.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(7);
    expect(refused[0]!.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused[0]!.json()).detail).toMatch(/too many|as many messages waiting/i);

    server.setDelayMs(0);
    await expectEachAnsweredOnce(engine, clientId, accepted);
    // Once the queue has drained, a refused message sent again (same id) is accepted and answered.
    const again = await engine.post('/api/v1/chat', { conversationId: clientId, text: maxMessage('cap-11'), messageId: 'cap-11' });
    expect(again.status).toBe(200);
    expect((await again.json()).reply.inReplyTo).toEqual(['cap-11']);
  }, 120_000);
});

describe('messages that bypass the edge', () => {
  const suite = suiteWith({ max_signals_per_run: 30 });
  const signal = (engine: Engine, clientId: string, message: InboundMessage) =>
    engine.temporal.workflow.signalWithStart('conversation', {
      taskQueue: engine.config.temporal.taskQueue,
      workflowId: engine.workflowId(clientId),
      args: [{ conversationId: engine.workflowId(clientId), channel: 'api', settings: conversationSettings(engine.config) }],
      signal: messageSignal,
      signalArgs: [message],
    });

  it('when a large inbox must move to the next run then it travels by reference and every message is answered', async () => {
    const { engine, server } = suite;
    const clientId = `stash-${Date.now()}`;
    server.setDelayMs(1_000);
    // Inline messages just under the reference threshold, signalled directly: no edge cap, no claim check.
    const text = (i: number) => `${i}:`.padEnd(30_000, 'x');
    const ids = Array.from({ length: 40 }, (_, i) => `direct-${i}`);
    await signal(engine, clientId, { messageId: ids[0]!, text: 'start', receivedAt: new Date().toISOString() });
    await eventually(() => server.inFlight > 0, { what: 'the first, slow turn' });
    for (const [i, id] of ids.slice(1).entries()) await signal(engine, clientId, { messageId: id, text: text(i), receivedAt: new Date().toISOString() });
    server.setDelayMs(0);

    await expectEachAnsweredOnce(engine, clientId, ids);
    const sizes = await payloadSizes(engine.temporal, engine.workflowId(clientId));
    expect(sizes.runs.some((run) => run.status === 'CONTINUED_AS_NEW')).toBe(true);
    expect(sizes.largest.get('storeText input')).toBeGreaterThan(0);
    expect(sizes.largest.get('continue-as-new input')).toBeLessThan(payloadBudgetBytes);
    expect(sizes.offloaded).toBe(0);
  }, 180_000);

  it('when a signal carries a text far over the budget then the data converter offloads it and the conversation answers it', async () => {
    const { engine } = suite;
    const clientId = `huge-${Date.now()}`;
    const huge = 'y'.repeat(700_000);
    await signal(engine, clientId, { messageId: 'huge-1', text: huge, receivedAt: new Date().toISOString() });
    await expectEachAnsweredOnce(engine, clientId, ['huge-1']);
    const sizes = await payloadSizes(engine.temporal, engine.workflowId(clientId));
    expect(sizes.offloaded).toBeGreaterThan(0);
    expect(sizes.runs.map((run) => run.status)).toEqual(['RUNNING']);
    const sizesOverBudget = [...sizes.largest.entries()].filter(([path, bytes]) => path !== 'signal message' && bytes > payloadBudgetBytes);
    expect(sizesOverBudget).toEqual([]);
  }, 120_000);
});
