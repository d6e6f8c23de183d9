import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackHandle } from '../scripts/stack';
import { testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { collectSse, type SseEvent } from './support/sse';
import { startTestStack } from './support/stack';
import { bearer } from './support/tokens';

const longAnswer = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');

describe('a worker crash in the middle of a streamed reply', () => {
  let server: OpenAiServer;
  let stack: StackHandle;
  let api: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    server = await startOpenAiServer({ answer: () => longAnswer, delayMs: 100 });
    const env = testEnvironment({
      providers: [{ name: 'slow', type: 'openai-compatible', endpoint: server.url, model: 'test-model', timeout: '60s' }],
    });
    stack = await startTestStack(env);
    api = stack.urls.api;
    auth = await bearer(env);
  });
  afterAll(async () => {
    await stack?.stop();
    await server?.close();
  });

  it('when the worker is SIGKILLed mid-stream then the restarted worker finishes and the reply arrives exactly once', async () => {
    const response = await fetch(`${api}/api/v1/chat`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId: 'crash', text: 'tell me a long story', wait: false }),
    });
    expect(response.status).toBe(202);
    const { eventsUrl, messageId } = (await response.json()) as { eventsUrl: string; messageId: string };

    const replies = (events: SseEvent[]) => events.filter((e) => e.event === 'reply');
    let seen: SseEvent[] = [];
    const streamed = collectSse(
      `${api}${eventsUrl}`,
      (events) => {
        seen = events;
        return replies(events).length > 0;
      },
      { headers: auth, timeoutMs: 120_000 },
    );
    // Kill it once the user has visibly received part of the answer.
    await eventually(() => seen.filter((e) => e.event === 'token').length >= 5, { what: 'tokens on the stream' });
    expect(replies(seen)).toHaveLength(0);
    const [victim] = stack.workerPids();
    process.kill(victim!, 'SIGKILL');

    const events = await streamed;
    await eventually(() => stack.workerPids().some((pid) => pid !== victim), { what: 'the restarted worker' });
    const reply = JSON.parse(replies(events)[0]!.data).reply;
    expect(reply.text).toBe(longAnswer);
    expect(reply.inReplyTo).toEqual([messageId]);
    expect(events.some((e) => e.event === 'restart')).toBe(true);
    expect(server.chatRequests).toHaveLength(2);
    expect(stack.workerRestarts()).toBe(1);

    // Nothing else arrives later: still exactly one reply, and one turn.
    const after = await collectSse(`${api}${eventsUrl}`, () => false, { headers: auth, timeoutMs: 2000 });
    expect(replies(after)).toHaveLength(1);
    const snapshot = (await (await fetch(`${api}/api/v1/conversations/crash`, { headers: auth })).json()) as { turnCount: number };
    expect(snapshot.turnCount).toBe(1);
  });

  it('when the worker is stopped gracefully mid-stream then it finishes the answer in flight first: the model is asked once, and nothing restarts', async () => {
    const calls = server.chatRequests.length;
    const restarts = stack.workerRestarts();
    const response = await fetch(`${api}/api/v1/chat`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId: 'rolling-update', text: 'tell me a long story', wait: false }),
    });
    const { eventsUrl } = (await response.json()) as { eventsUrl: string };
    let seen: SseEvent[] = [];
    const streamed = collectSse(`${api}${eventsUrl}`, (events) => (seen = events).some((e) => e.event === 'reply'), { headers: auth, timeoutMs: 120_000 });
    // Stopped as a rolling update stops it, with most of the answer still to stream (well inside the worker's grace time).
    await eventually(() => seen.filter((e) => e.event === 'token').length >= 40, { what: 'tokens on the stream' });
    const [stopped] = stack.workerPids();
    process.kill(stopped!, 'SIGTERM');

    const events = await streamed;
    expect(JSON.parse(events.find((e) => e.event === 'reply')!.data).reply.text).toBe(longAnswer);
    expect(events.some((e) => e.event === 'restart')).toBe(false);
    expect(server.chatRequests.length - calls).toBe(1);
    // It stopped (the launcher starts a new one: for it, any exit is unexpected).
    await eventually(() => stack.workerRestarts() === restarts + 1, { what: 'the stopped worker to exit' });
  });
});
