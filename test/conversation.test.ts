import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apologyText } from '../workflows/conversation';
import { messageSignal } from '../workflows/messages';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { recordingHistories, saveHistories } from './support/histories';
import { startOpenAiServer, type OpenAiServer, type RecordedRequest } from './support/openai-server';

/** The text of every message the model was sent in one request. */
const contents = (request: RecordedRequest) => (request.body?.messages ?? []).map((m) => String(m.content));
const isSummaryRequest = (request: RecordedRequest) => contents(request)[0]?.startsWith('You maintain the running summary') ?? false;
const replyRequests = (server: OpenAiServer) => server.chatRequests.filter((r) => !isSummaryRequest(r));

describe('conversation workflow', () => {
  let server: OpenAiServer;
  let engine: Engine;
  let n = 0;
  let id: string;
  const chat = (text: string, extra: Record<string, unknown> = {}) =>
    engine.post('/api/v1/chat', { conversationId: id, text, ...extra });
  /** The snapshot once the turn in flight has finished, summarizing included. */
  const settled = () =>
    eventually(async () => {
      const snapshot = await (await engine.get(`/api/v1/conversations/${id}`)).json();
      return snapshot.status === 'waiting' && snapshot.pendingCount === 0 && snapshot;
    });
  const runState = async () => (await engine.temporal.workflow.getHandle(engine.workflowId(id)).describe()).status.name;

  beforeAll(async () => {
    server = await startOpenAiServer({ apiKey: 'sk-test' });
    engine = await startEngine({
      providers: [{ name: 'fake', type: 'openai-compatible', endpoint: server.url, api_key: 'sk-test', model: 'test-model', timeout: '10s' }],
      app: {
        conversation: {
          context_token_budget: 120,
          summary_max_tokens: 40,
          idle_timeout: '2s',
          max_turns_per_run: 3,
          archive_every_turns: 2,
        },
      },
    });
  });
  afterAll(async () => {
    await engine?.stop();
    await server?.close();
  });
  beforeEach(() => {
    server.reset();
    id = `c${++n}-${Date.now()}`;
  });
  afterEach(async () => {
    if (recordingHistories()) await saveHistories(engine.temporal, engine.workflowId(id), `conversation-${n}`);
  });

  it('when the same messageId arrives twice then only one turn answers it', async () => {
    const a = await chat('only once', { messageId: 'm-1', wait: false });
    const b = await chat('only once', { messageId: 'm-1', wait: false });
    expect([a.status, b.status]).toEqual([202, 202]);
    const reply = await eventually(async () => (await chat('only once', { messageId: 'm-1' })).json().then((r) => r.reply));
    expect(reply.inReplyTo).toEqual(['m-1']);
    const snapshot = await (await engine.get(`/api/v1/conversations/${id}`)).json();
    expect(snapshot.turnCount).toBe(1);
    expect(snapshot.counters.duplicatesIgnored).toBeGreaterThanOrEqual(1);
    expect(replyRequests(server)).toHaveLength(1);
  });

  it('when messages arrive during a slow turn then the next turn answers them together with one reply', async () => {
    server.setDelayMs(150);
    await chat('first', { messageId: 'q1', wait: false });
    await eventually(() => server.inFlight > 0, { what: 'the first model call' });
    await chat('second', { messageId: 'q2', wait: false });
    await chat('third', { messageId: 'q3', wait: false });
    const reply = await eventually(async () => (await (await chat('third', { messageId: 'q3' })).json()).reply);
    expect(reply.inReplyTo).toEqual(['q2', 'q3']);
    const requests = replyRequests(server);
    expect(requests).toHaveLength(2);
    expect(contents(requests[1]!).slice(-2)).toEqual(['second', 'third']);
  });

  it('when the context outgrows its token budget then old turns are folded into a summary the model sees', async () => {
    for (let i = 1; i <= 4; i++) await chat(`fact number ${i}: ${'detail '.repeat(20)}`);
    const snapshot = await settled();
    expect(snapshot.summary).not.toBe('');
    expect(snapshot.recentTurns.length).toBeLessThan(4);
    expect(server.chatRequests.some(isSummaryRequest)).toBe(true);
    await chat('what do you remember?');
    const last = replyRequests(server).at(-1)!;
    expect(contents(last).some((c) => c.includes(snapshot.summary))).toBe(true);
  });

  it('when a run reaches its turn limit then it continues as new keeping summary, window and dedupe set', async () => {
    for (let i = 1; i <= 4; i++) await chat(`turn ${i}: ${'detail '.repeat(20)}`, { messageId: `can-${i}` });
    const before = await settled();
    expect(before.turnCount).toBe(4);
    expect(before.summary).not.toBe('');
    const runs: string[] = [];
    for await (const run of engine.temporal.workflow.list({ query: `WorkflowId = '${engine.workflowId(id)}'` })) {
      runs.push(run.status.name);
    }
    expect(runs).toContain('CONTINUED_AS_NEW');

    // Straight to the workflow, past the API's reply index: only the carried dedupe set can stop this.
    await engine.temporal.workflow
      .getHandle(engine.workflowId(id))
      .signal(messageSignal, { messageId: 'can-1', text: 'turn 1 again', receivedAt: new Date().toISOString() });
    const after = await eventually(async () => {
      const snapshot = await (await engine.get(`/api/v1/conversations/${id}`)).json();
      return snapshot.counters.duplicatesIgnored > before.counters.duplicatesIgnored && snapshot;
    });
    expect(after.turnCount).toBe(4);
    expect(after.summary).toBe(before.summary);
    expect(after.recentTurns.map((t: { number: number }) => t.number)).toEqual(
      before.recentTurns.map((t: { number: number }) => t.number),
    );
  });

  it('when a conversation idles then it closes, and the next message restores its context from Redis', async () => {
    await chat('remember the word pineapple');
    await eventually(async () => (await runState()) === 'COMPLETED', { what: 'idle close' });
    const closed = await (await engine.get(`/api/v1/conversations/${id}`)).json();
    expect(closed.status).toBe('closed');
    expect(closed.turnCount).toBe(1);
    await chat('which word?');
    expect(contents(replyRequests(server).at(-1)!)).toContain('remember the word pineapple');
    const history = await (await engine.get(`/api/v1/conversations/${id}/messages`)).json();
    expect(history.messages.filter((m: { role: string }) => m.role === 'user').map((m: { text: string }) => m.text)).toEqual([
      'remember the word pineapple',
      'which word?',
    ]);
  });

  it('when Redis lost the snapshot then the next run restores the context from the archive', async () => {
    await chat('remember the word mango');
    await eventually(async () => (await runState()) === 'COMPLETED', { what: 'idle close' });
    const deleted = await engine.redis.del(`${engine.config.redis.keyPrefix}conv:${engine.workflowId(id)}:context`);
    expect(deleted).toBe(1);
    await chat('which fruit?');
    expect(contents(replyRequests(server).at(-1)!)).toContain('remember the word mango');
  });

  it('when the user resets then the model no longer sees earlier turns, and the history keeps them', async () => {
    await chat('my name is Ada');
    expect((await engine.post(`/api/v1/conversations/${id}/reset`)).status).toBe(202);
    await chat('what is my name?');
    const last = contents(replyRequests(server).at(-1)!);
    expect(last).not.toContain('my name is Ada');
    const history = await (await engine.get(`/api/v1/conversations/${id}/messages`)).json();
    expect(history.messages.map((m: { text: string }) => m.text)).toContain('my name is Ada');
  });

  it('when every provider rejects the request then the user gets a short apology, not silence', async () => {
    server.setFault(400);
    const response = await chat('this will fail');
    expect(response.status).toBe(200);
    const { reply } = await response.json();
    expect(reply.kind).toBe('apology');
    expect(reply.text).toBe(apologyText);
    expect(replyRequests(server)).toHaveLength(1);
  });
});
