/**
 * Model activities against two local OpenAI-compatible servers (the fallback chain) and the real Redis event
 * stream, run inside a real activity Context (MockActivityEnvironment: attempt, heartbeats, cancellation).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChatModel } from '../activities/chat-models';
import { createModelActivities, type GenerateReplyInput } from '../activities/model';
import type { ModelProvider } from '../lib/config';
import type { StoredEvent } from '../lib/conversation-events';
import { ConversationStore } from '../lib/conversation-store';
import { DirectoryBlobStore } from '../lib/directory-blob-store';
import { TextStore } from '../lib/text-store';
import { TokenBudget } from '../lib/token-budget';
import { createLogger } from '../lib/logger';
import { createRedis, type Redis } from '../lib/redis';
import type { InboundMessage, Turn } from '../workflows/messages';
import { startOpenAiServer, type Fault, type OpenAiServer } from '../scripts/simulators/openai-server';
import { testServices } from './support/services';

const apiKey = 'sk-model-activities';
const logger = createLogger({ level: 'silent', name: 'model-activities-test' });
let primary: OpenAiServer;
let secondary: OpenAiServer;
let redis: Redis;
let store: ConversationStore;
const texts = new TextStore(new DirectoryBlobStore(mkdtempSync(join(tmpdir(), 'aac-model-texts-'))));

beforeAll(async () => {
  [primary, secondary] = await Promise.all([startOpenAiServer({ apiKey, models: ['primary-model'] }), startOpenAiServer({ apiKey, models: ['secondary-model'] })]);
  redis = createRedis(testServices().redisUrl);
  store = new ConversationStore(redis, `test:model-activities:${randomUUID()}:`, { ttlSeconds: 600, logger });
});
afterAll(async () => {
  store?.close();
  await redis?.quit();
  await Promise.all([primary?.close(), secondary?.close()]);
});
beforeEach(() => {
  primary.reset();
  secondary.reset();
});

function provider(name: string, server: OpenAiServer, overrides: Partial<ModelProvider> = {}): ModelProvider {
  return {
    name, type: 'openai-compatible', endpoint: server.url, apiKey, model: `${name}-model`,
    maxTokens: 256, temperature: 0, maxConcurrency: 10, timeout: 10_000, ...overrides,
  };
}

const echoProvider: ModelProvider = {
  name: 'dev', type: 'echo', model: 'echo', maxTokens: 1024, temperature: 0, maxConcurrency: 100, timeout: 60_000,
};

/** Model activities over the given providers, in fallback order. */
function activitiesFor(...providers: ModelProvider[]) {
  return activitiesWith({}, ...providers);
}

function activitiesWith(extra: { usage?: TokenBudget }, ...providers: ModelProvider[]) {
  return createModelActivities({
    models: providers.map((p) => ({ model: createChatModel(p), maxConcurrency: p.maxConcurrency })),
    cache: store,
    texts,
    logger,
    ...extra,
  });
}

const twoProviders = () => activitiesFor(provider('primary', primary), provider('secondary', secondary));

function message(text: string): InboundMessage {
  return { messageId: randomUUID(), text, receivedAt: new Date().toISOString() };
}

function turn(number: number, userText: string, replyText: string): Turn {
  const messages = [message(userText)];
  const usage = { promptTokens: 1, completionTokens: 1, totalTokens: 2 };
  return {
    number,
    messages,
    reply: {
      replyId: randomUUID(), inReplyTo: messages.map((m) => m.messageId), text: replyText, provider: 'p', model: 'm',
      usage, kind: 'answer', createdAt: new Date().toISOString(),
    },
  };
}

function replyInput(texts: string[], overrides: Partial<GenerateReplyInput> = {}): GenerateReplyInput {
  return {
    conversationId: `api:tester:${randomUUID()}`,
    replyId: randomUUID(),
    systemPrompt: 'You are a test assistant.',
    summary: '',
    window: [],
    messages: texts.map(message),
    ...overrides,
  };
}

/** A real activity Context; its own logger stays quiet about the failures these tests provoke on purpose. */
function environment(info: { attempt?: number; heartbeatDetails?: unknown; workflowExecution?: { workflowId: string; runId: string } } = {}): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

/** `env.run` with the activity's result type (the SDK's signature cannot infer it). */
function run<A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

async function eventsOf(conversationId: string): Promise<StoredEvent[]> {
  return store.readEvents(conversationId, '0-0', { count: 10_000 });
}

/** The text a client shows after applying the events: tokens appended, a restart clears what came before. */
function textShown(events: StoredEvent[]): string {
  let text = '';
  for (const event of events) {
    if (event.type === 'restart') text = '';
    if (event.type === 'token') text += event.text;
  }
  return text;
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the activity to fail'),
    (error: unknown) => error,
  );
}

describe('generateReply', () => {
  it('when the provider streams then token events land on the stream in order and concatenate to the reply', async () => {
    const activities = twoProviders();
    const input = replyInput(['What is the capital of France?']);

    const result = await run(environment(), activities.generateReply, input);

    expect(result).toMatchObject({ text: 'Answer to: What is the capital of France?', provider: 'primary', model: 'primary-model' });
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    const events = await eventsOf(input.conversationId);
    expect(events.map((e) => e.type)).toEqual(events.map(() => 'token'));
    expect(events.length).toBeGreaterThan(1);
    expect(events.map((e) => (e.type === 'token' ? e.index : -1))).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.type === 'token' && e.replyId === input.replyId && e.attempt === 1)).toBe(true);
    expect(textShown(events)).toBe(result.text);
  });

  it('when asked to publish then the reply event follows every token event and answers its messages', async () => {
    const input = replyInput(['publish me'], {});
    const inReplyTo = input.messages.map((m) => m.messageId);

    const result = await run(environment(), twoProviders().generateReply, { ...input, publish: { inReplyTo } });

    const events = await eventsOf(input.conversationId);
    expect(events.at(-1)).toMatchObject({ type: 'reply', reply: { replyId: input.replyId, inReplyTo, text: result.text, kind: 'answer', createdAt: result.createdAt } });
    expect(events.slice(0, -1).every((e) => e.type === 'token')).toBe(true);
    expect(await store.findReply(input.conversationId, inReplyTo[0]!)).toMatchObject({ replyId: input.replyId, text: result.text });
  });

  it('when a retry finds its reply already published then it answers with that reply and asks no model', async () => {
    const input = replyInput(['asked once'], {});
    const publish = { inReplyTo: input.messages.map((m) => m.messageId) };
    const first = await run(environment(), twoProviders().generateReply, { ...input, publish });
    primary.reset();
    // A different answer now: a second model call would show.
    primary.setAnswer(() => 'a different answer');

    const retried = await run(environment({ attempt: 2 }), twoProviders().generateReply, { ...input, publish });

    expect(retried).toMatchObject({ text: first.text, createdAt: first.createdAt });
    expect(primary.chatRequests).toHaveLength(0);
    expect((await eventsOf(input.conversationId)).filter((e) => e.type === 'reply')).toHaveLength(1);
  });

  it('when there is a summary, a window and coalesced messages then the model sees them in order, one user message each, the summary never as system', async () => {
    const activities = twoProviders();
    const input = replyInput(['first quick message', 'second quick message'], {
      summary: 'The user likes tea.',
      window: [turn(1, 'earlier question', 'earlier answer')],
    });

    const result = await run(environment(), activities.generateReply, input);

    expect(result.text).toBe('Answer to: second quick message');
    const sent = primary.chatRequests[0]?.body;
    expect(sent?.messages).toEqual([
      { role: 'system', content: 'You are a test assistant.' },
      { role: 'assistant', content: expect.stringContaining('The user likes tea.') },
      { role: 'user', content: 'earlier question' },
      { role: 'assistant', content: 'earlier answer' },
      { role: 'user', content: 'first quick message' },
      { role: 'user', content: 'second quick message' },
    ]);
    expect(sent).toMatchObject({ model: 'primary-model', stream: true, stream_options: { include_usage: true }, max_tokens: 256, temperature: 0 });
    expect(primary.chatRequests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it('when texts travel by reference then the model reads them whole, and a reply over the inline limit comes back by reference', async () => {
    const conversationId = `refs-${randomUUID()}`;
    const long = '長'.repeat(16_000);
    primary.setAnswer(() => '答'.repeat(20_000));
    const activities = twoProviders();
    const asked = await texts.offload(conversationId, message(long));
    const earlier = turn(1, 'earlier question', 'earlier answer');
    const window = [{ ...earlier, reply: await texts.offload(conversationId, { ...earlier.reply, text: '前'.repeat(12_000) }) }];
    expect(asked.textRef?.bytes).toBe(48_000);
    expect(window[0]!.reply.textRef).toBeDefined();

    const result = await run(environment(), activities.generateReply, { ...replyInput([]), conversationId, window, messages: [asked] });

    const sent = primary.chatRequests[0]?.body?.messages ?? [];
    expect(sent.map((m) => String(m.content))).toEqual(['You are a test assistant.', 'earlier question', '前'.repeat(12_000), long]);
    expect(result.textRef).toMatchObject({ bytes: 60_000, chars: 20_000 });
    expect(result.text.length).toBeLessThan(300);
    expect(await texts.get(result.textRef!)).toBe('答'.repeat(20_000));
    expect(textShown(await eventsOf(conversationId))).toBe('答'.repeat(20_000));
  });

  it.each<[string, Fault]>([
    ['429', 429],
    ['500', 500],
    ['a malformed chunk', 'malformed'],
    ['a dropped connection', { type: 'drop', afterChunks: 2 }],
  ])('when the first provider fails with %s then the second provider answers and clients discard the partial text', async (_, fault) => {
    primary.script(fault);
    const activities = twoProviders();
    const input = replyInput(['hello']);

    const result = await run(environment(), activities.generateReply, input);

    expect(result.provider).toBe('secondary');
    expect(result.text).toBe('Answer to: hello');
    expect(primary.chatRequests).toHaveLength(1);
    expect(secondary.chatRequests).toHaveLength(1);
    const events = await eventsOf(input.conversationId);
    expect(textShown(events)).toBe(result.text);
    const partial = events.findIndex((e) => e.type === 'token');
    const restart = events.findIndex((e) => e.type === 'restart');
    if (typeof fault === 'object' || fault === 'malformed') {
      // Part of the first provider's answer was streamed, so a restart precedes the second provider's tokens.
      expect(partial).toBe(0);
      expect(restart).toBeGreaterThan(partial);
    } else {
      expect(restart).toBe(-1);
    }
  });

  it.each<[string, Fault]>([
    ['before answering', 'hang'],
    ['in the middle of the stream', { type: 'hang', afterChunks: 2 }],
  ])('when the first provider hangs %s then its timeout expires and the second provider answers', async (_, fault) => {
    primary.script(fault);
    const activities = activitiesFor(provider('primary', primary, { timeout: 300 }), provider('secondary', secondary));

    const result = await run(environment(), activities.generateReply, replyInput(['are you there?']));

    expect(result.provider).toBe('secondary');
    expect(result.text).toBe('Answer to: are you there?');
    expect(primary.chatRequests).toHaveLength(1);
  });

  it('when the first provider rejects the request with 400 then it is not asked again and the second provider answers', async () => {
    primary.script(400, 400);
    const activities = twoProviders();

    const result = await run(environment(), activities.generateReply, replyInput(['hi']));

    expect(result.provider).toBe('secondary');
    expect(primary.chatRequests).toHaveLength(1);
    expect(secondary.chatRequests).toHaveLength(1);
  });

  it('when a provider rejected the request in an earlier attempt then the retry does not send it there again', async () => {
    primary.setFault(400);
    secondary.setFault(503);
    const activities = twoProviders();
    const first = environment({ attempt: 1 });
    const details: unknown[] = [];
    first.on('heartbeat', (d: unknown) => details.push(d));
    expect(await failureOf(run(first, activities.generateReply, replyInput(['hi'])))).toMatchObject({ type: 'ModelUnavailable' });

    secondary.setFault(undefined);
    const result = await run(environment({ attempt: 2, heartbeatDetails: details.at(-1) }), activities.generateReply, replyInput(['hi']));

    expect(result.provider).toBe('secondary');
    expect(primary.chatRequests).toHaveLength(1);
  });

  it('when every provider rejects the request then a non-retryable ModelRequestRejected failure is thrown', async () => {
    primary.setFault(400);
    secondary.setFault(422);
    const activities = twoProviders();

    const error = await failureOf(run(environment(), activities.generateReply, replyInput(['hi'])));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'ModelRequestRejected', nonRetryable: true });
    expect(primary.chatRequests).toHaveLength(1);
    expect(secondary.chatRequests).toHaveLength(1);
  });

  it.each<[string, Fault, Fault]>([
    ['unavailable', 500, 429],
    ['unavailable or rejecting', 400, 503],
  ])('when every provider is %s then a retryable ModelUnavailable failure is thrown', async (_, first, second) => {
    primary.setFault(first);
    secondary.setFault(second);
    const activities = twoProviders();

    const error = await failureOf(run(environment(), activities.generateReply, replyInput(['hi'])));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
  });

  it('when this is attempt 2 then a restart event precedes its tokens', async () => {
    const activities = twoProviders();
    const input = replyInput(['retry me']);

    const result = await run(environment({ attempt: 2 }), activities.generateReply, input);

    const events = await eventsOf(input.conversationId);
    expect(events[0]).toMatchObject({ type: 'restart', replyId: input.replyId, attempt: 2 });
    expect(events.slice(1).every((e) => e.type === 'token' && e.attempt === 2)).toBe(true);
    expect(textShown(events)).toBe(result.text);
  });

  it('when many replies are generated at once then no more than the provider cap are in flight', async () => {
    primary.setDelayMs(20);
    const activities = activitiesFor(provider('primary', primary, { maxConcurrency: 3 }));

    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => run(environment(), activities.generateReply, replyInput([`question ${i}`]))),
    );

    expect(results.map((r) => r.text)).toEqual(results.map((_, i) => `Answer to: question ${i}`));
    expect(primary.chatRequests).toHaveLength(12);
    expect(primary.maxConcurrent).toBe(3);
  });

  it('when the provider streams then the activity heartbeats', async () => {
    const env = environment();
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));

    await run(env, twoProviders().generateReply, replyInput(['one two three']));

    expect(heartbeats).toBeGreaterThan(1);
  });

  it('when the activity is cancelled mid-stream then it fails as cancelled and does not fall back', async () => {
    primary.setDelayMs(50);
    const env = environment();
    env.once('heartbeat', () => setTimeout(() => env.cancel(), 30));
    const input = replyInput(['a long question that streams slowly']);

    const error = await failureOf(run(env, twoProviders().generateReply, input));

    expect(error).toBeInstanceOf(CancelledFailure);
    expect(secondary.chatRequests).toHaveLength(0);
  });

  it('when the provider is the dev provider then it says so and repeats what the user said, streamed word by word', async () => {
    const activities = activitiesFor(echoProvider);
    const input = replyInput(['hello there', 'and one more thing']);

    const result = await run(environment(), activities.generateReply, input);

    expect(result.text).toMatch(/^\[dev provider\]/);
    expect(result.text).toContain('hello there');
    expect(result.text).toContain('and one more thing');
    expect(result).toMatchObject({ provider: 'dev', model: 'echo' });
    expect(result.usage.totalTokens).toBeGreaterThan(0);
    const events = await eventsOf(input.conversationId);
    expect(events.length).toBeGreaterThan(3);
    expect(textShown(events)).toBe(result.text);
  });
});

describe('summarize', () => {
  const turns = (count: number) =>
    Array.from({ length: count }, (_, i) => turn(i + 1, `user fact number ${i + 1} ${'x'.repeat(100)}`, `noted ${i + 1}`));

  it('when the dev provider summarizes many long turns then the summary stays within the budget and keeps the newest', async () => {
    const activities = activitiesFor(echoProvider);

    const result = await run(environment(), activities.summarize, {
      previousSummary: 'Earlier: the user is called Ada.',
      turns: turns(20),
      maxTokens: 100,
    });

    expect(result.summary.length).toBeLessThanOrEqual(400);
    expect(result.summary).toMatch(/^Earlier: /);
    expect(result.summary).toContain('user fact number 20');
    expect(result.summary).not.toContain('Earlier: Earlier:');
    expect(result.provider).toBe('dev');
  });

  it('when the dev provider summarizes a little then nothing is lost', async () => {
    const activities = activitiesFor(echoProvider);

    const result = await run(environment(), activities.summarize, {
      previousSummary: 'Earlier: the user is called Ada.',
      turns: [turn(1, 'I live in Paris', '[dev provider] You said: I live in Paris')],
      maxTokens: 400,
    });

    expect(result.summary).toContain('the user is called Ada.');
    expect(result.summary).toContain('user: I live in Paris');
  });

  it('when a model summarizes then it gets the previous summary and the turns, and the answer is capped at maxTokens', async () => {
    primary.setAnswer(() => 'word '.repeat(500));
    const activities = twoProviders();

    const result = await run(environment(), activities.summarize, {
      previousSummary: 'The user is called Ada.',
      turns: turns(2),
      maxTokens: 20,
    });

    expect(result.provider).toBe('primary');
    expect(result.summary.length).toBeLessThanOrEqual(80);
    const sent = primary.chatRequests[0]?.body;
    expect(sent?.max_tokens).toBe(20);
    const prompt = JSON.stringify(sent?.messages);
    expect(prompt).toContain('The user is called Ada.');
    expect(prompt).toContain('user fact number 2');
  });

  it('when the first provider is rate limited then the summary comes from the second', async () => {
    primary.script(429);
    const activities = twoProviders();

    const result = await run(environment(), activities.summarize, {
      previousSummary: '',
      turns: turns(1),
      maxTokens: 100,
    });

    expect(result.provider).toBe('secondary');
    expect(result.summary.length).toBeGreaterThan(0);
  });
});

describe('model-token usage', () => {
  it("when a reply and a summary are generated then both are counted against the conversation owner's daily budget", async () => {
    const user = `spender-${randomUUID()}`;
    const conversationId = `api:${user}:c1`;
    const budget = new TokenBudget(redis, `test:usage:${randomUUID()}:`, 1_000_000);
    const activities = activitiesWith({ usage: budget }, provider('primary', primary));
    const counted = async () => {
      const keys = await redis.keys(`*limits:tokens:{${user}}:*`);
      return keys.length === 0 ? 0 : Number(await redis.get(keys[0]!));
    };

    const reply = await run(environment(), activities.generateReply, replyInput(['hello there'], { conversationId }));
    expect(await counted()).toBe(reply.usage.totalTokens);

    // The summary activity knows its conversation from the workflow that runs it.
    const summarized = await run(environment({ workflowExecution: { workflowId: conversationId, runId: randomUUID() } }), activities.summarize, {
      previousSummary: '',
      turns: [turn(1, 'remember that I like tea', 'noted')],
      maxTokens: 100,
    });
    expect(summarized.usage.totalTokens).toBeGreaterThan(0);
    expect(await counted()).toBe(reply.usage.totalTokens + summarized.usage.totalTokens);
  });
});
