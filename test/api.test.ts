import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './support/engine';
import { collectSse } from './support/sse';

describe('HTTP API with the built-in dev provider', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('when a user says hello then the reply comes back and the conversation continues with context', async () => {
    const first = await engine.post('/api/v1/chat', { conversationId: 'demo', text: 'hello' });
    expect(first.status).toBe(200);
    const body = await first.json();
    expect(body.conversationId).toBe('demo');
    expect(body.reply.text).toContain('dev provider');
    expect(body.reply.text).toContain('hello');
    expect(body.reply.inReplyTo).toEqual([body.messageId]);
    expect(body.reply.provider).toBe('dev');

    const second = await engine.post('/api/v1/chat', { conversationId: 'demo', text: 'second message' });
    expect(second.status).toBe(200);
    expect((await second.json()).reply.text).toContain('second message');

    const snapshot = await (await engine.get('/api/v1/conversations/demo')).json();
    expect(snapshot.turnCount).toBe(2);
    expect(snapshot.recentTurns.map((t: { messages: { text: string }[] }) => t.messages[0]!.text)).toEqual([
      'hello',
      'second message',
    ]);
    const running = await engine.temporal.workflow.getHandle(engine.workflowId('demo')).describe();
    expect(running.status.name).toBe('RUNNING');
  });

  it('when the client retries with the same Idempotency-Key then it gets the same reply and no second turn', async () => {
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await (await engine.post('/api/v1/chat', { conversationId: 'idem', text: 'once' }, headers)).json();
    const again = await engine.post('/api/v1/chat', { conversationId: 'idem', text: 'once' }, headers);
    expect(again.status).toBe(200);
    expect((await again.json()).reply.replyId).toBe(first.reply.replyId);
    const byField = await engine.post('/api/v1/chat', { conversationId: 'idem', text: 'once', messageId: 'retry-1' });
    expect((await byField.json()).reply.replyId).toBe(first.reply.replyId);
    const snapshot = await (await engine.get('/api/v1/conversations/idem')).json();
    expect(snapshot.turnCount).toBe(1);
    expect(snapshot.counters.duplicatesIgnored).toBe(0);
  });

  it('when wait is false then 202 comes at once and the reply arrives on the events URL', async () => {
    const response = await engine.post('/api/v1/chat', { conversationId: 'async', text: 'later please', wait: false });
    expect(response.status).toBe(202);
    const queued = await response.json();
    expect(queued.status).toBe('queued');
    const events = await collectSse(`${engine.api.url}${queued.eventsUrl}`, (seen) => seen.some((e) => e.event === 'reply'), {
      headers: await engine.as('anonymous'),
    });
    const tokens = events.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data).text).join('');
    const reply = JSON.parse(events.find((e) => e.event === 'reply')!.data).reply;
    expect(reply.inReplyTo).toEqual([queued.messageId]);
    expect(tokens).toBe(reply.text);

    // Resuming after the reply's event id yields nothing old.
    const replyEventId = events.find((e) => e.event === 'reply')!.id!;
    const resumed = await collectSse(`${engine.api.url}/api/v1/conversations/async/events`, () => false, {
      headers: { ...(await engine.as('anonymous')), 'last-event-id': replyEventId },
      timeoutMs: 1500,
    });
    expect(resumed).toEqual([]);
  });

  it('when history is requested then every message and reply is listed in order, page by page', async () => {
    for (const text of ['one', 'two', 'three']) await engine.post('/api/v1/chat', { conversationId: 'paged', text });
    const first = await (await engine.get('/api/v1/conversations/paged/messages?limit=2')).json();
    expect(first.messages.map((m: { role: string; text: string }) => `${m.role}:${m.text.slice(0, 3)}`)).toEqual([
      'user:one',
      'assistant:[de',
      'user:two',
      'assistant:[de',
    ]);
    expect(first.nextAfter).toBe(2);
    const second = await (await engine.get(`/api/v1/conversations/paged/messages?after=${first.nextAfter}&limit=2`)).json();
    expect(second.messages.map((m: { text: string }) => m.text)[0]).toBe('three');
    expect(second.nextAfter).toBeNull();
  });

  it.each([
    ['malformed JSON', '{"text": ', {}, 400, /JSON/],
    ['not JSON', 'text=hi', { 'content-type': 'text/plain' }, 415, /application\/json/],
    ['text of the wrong type', { text: 42 }, {}, 422, /text/],
    ['missing text', { conversationId: 'x' }, {}, 422, /text/],
    ['empty text', { text: '   ' }, {}, 422, /text must not be empty/],
    ['oversized text', { text: 'x'.repeat(16_001) }, {}, 422, /at most 16000/],
    ['unknown field', { text: 'hi', color: 'red' }, {}, 422, /color/],
    ['bad conversation id', { text: 'hi', conversationId: 'a b' }, {}, 422, /conversationId/],
    ['wait of the wrong type', { text: 'hi', wait: 'yes' }, {}, 422, /wait/],
    ['a JSON array', [1, 2], {}, 422, /object/],
    ['a huge body', { text: 'x'.repeat(70_000) }, {}, 413, /larger than/],
  ])('when the body is %s then the status is exact and the detail names the problem', async (_, body, headers, status, detail) => {
    const response = await engine.post('/api/v1/chat', body, headers as Record<string, string>);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = await response.json();
    expect(problem.status).toBe(status);
    expect(problem.detail).toMatch(detail);
  });

  it.each([
    ['a body of 2 MB', {}, 413],
    ['a body without a token', { authorization: '' }, 401],
  ])('when %s is refused before it is read then the connection closes and the next requests succeed', async (_, headers, status) => {
    const refused = await engine.post('/api/v1/chat', { text: 'x'.repeat(2_000_000) }, headers);
    expect(refused.status).toBe(status);
    expect(refused.headers.get('connection')).toBe('close');
    await refused.body?.cancel();
    // The same client's pool: none of these may land on the socket the refused body was still arriving on.
    for (let i = 0; i < 4; i++) expect((await engine.get('/api/v1/conversations/nobody')).status).toBe(404);
  });

  it('when the Idempotency-Key header or an event id is malformed then the request is refused with 400', async () => {
    const empty = await engine.post('/api/v1/chat', { conversationId: 'idem', text: 'hi' }, { 'idempotency-key': '' });
    expect(empty.status).toBe(400);
    expect((await empty.json()).detail).toMatch(/Idempotency-Key/);
    const badCursor = await engine.get('/api/v1/conversations/idem/events?after=yesterday');
    expect(badCursor.status).toBe(400);
    expect((await engine.get('/api/v1/conversations/a%20b/events')).status).toBe(400);
  });

  it('when a conversation does not exist then its resources answer 404 problem+json', async () => {
    for (const path of ['/api/v1/conversations/nobody', '/api/v1/conversations/nobody/messages', '/api/v1/conversations/nobody/events']) {
      const response = await engine.get(path);
      expect(response.status).toBe(404);
      expect((await response.json()).detail).toContain('nobody');
    }
    expect((await engine.post('/api/v1/conversations/nobody/reset')).status).toBe(404);
  });

  it('when operators look at the service then health, readiness, OpenAPI and docs answer', async () => {
    expect((await engine.get('/healthz')).status).toBe(200);
    const ready = await engine.get('/readyz');
    expect(ready.status).toBe(200);
    expect((await ready.json()).checks).toEqual({ temporal: 'ok', redis: 'ok', archive: 'ok' });
    const openapi = await (await engine.get('/openapi.json')).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/api/v1/chat', '/api/v1/conversations/{id}', '/api/v1/conversations/{id}/events']),
    );
    expect((await engine.get('/docs')).status).toBe(200);
  });
});
