/**
 * The local OpenAI-compatible server, checked through the `openai` package itself: if the SDK accepts it, the
 * model activity suites exercise the same code paths they would against a real provider.
 */
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';

const apiKey = 'sk-test-key';
let server: OpenAiServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startOpenAiServer({ apiKey, models: ['test-model', 'other-model'] });
  client = new OpenAI({ baseURL: server.url, apiKey, maxRetries: 0, timeout: 10_000, logLevel: 'off' });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

const ask = (content: string) => ({ model: 'test-model', messages: [{ role: 'user' as const, content }] });

describe('local OpenAI-compatible server', () => {
  it('when asked without streaming then it answers a chat.completion naming the last user message, with usage', async () => {
    const completion = await client.chat.completions.create(ask('hello there'));

    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Answer to: hello there');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
  });

  it('when asked to stream with include_usage then chunks concatenate to the answer and a usage chunk comes last', async () => {
    const stream = await client.chat.completions.create({ ...ask('stream me'), stream: true, stream_options: { include_usage: true } });
    let text = '';
    const finishReasons: string[] = [];
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishReasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usageChunks += 1;
    }

    expect(text).toBe('Answer to: stream me');
    expect(finishReasons).toEqual(['stop']);
    expect(usageChunks).toBe(1);
  });

  it('when max_tokens is below the answer length then the answer is cut with finish_reason length', async () => {
    server.setAnswer(() => 'one two three four five');
    const completion = await client.chat.completions.create({ ...ask('x'), max_tokens: 2 });

    expect(completion.choices[0]?.message.content).toBe('one two ');
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });

  it('when the models are listed then the configured ids come back', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['test-model', 'other-model']);
  });

  it('when scripted errors are queued then the SDK raises APIError with each status in order, then answers normally', async () => {
    server.script(429, 500, 400);
    const statuses: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const error: unknown = await client.chat.completions.create(ask('x')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(APIError);
      statuses.push((error as APIError).status);
    }

    expect(statuses).toEqual([429, 500, 400]);
    expect(server.chatRequests).toHaveLength(3);
    await expect(client.chat.completions.create(ask('x'))).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it('when rate limited then the error carries retry-after and an OpenAI-shaped body', async () => {
    server.script({ type: 'error', status: 429, retryAfterSeconds: 7 });
    const error = (await client.chat.completions.create(ask('x')).catch((e: unknown) => e)) as APIError;

    expect(error.headers?.get('retry-after')).toBe('7');
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.type).toBe('requests');
  });

  it('when the api key is wrong then the answer is 401', async () => {
    const stranger = new OpenAI({ baseURL: server.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const error = (await stranger.chat.completions.create(ask('x')).catch((e: unknown) => e)) as APIError;

    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(401);
  });

  it('when a stream is malformed then iterating it throws after the first chunk', async () => {
    server.script('malformed');
    const stream = await client.chat.completions.create({ ...ask('x'), stream: true });
    const pieces: string[] = [];
    const consume = async () => {
      for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? '');
    };

    await expect(consume()).rejects.toThrow();
    expect(pieces.join('')).toBe('Answer ');
  });

  it('when the socket is dropped mid-stream then iterating it throws', async () => {
    server.script({ type: 'drop', afterChunks: 2 });
    const stream = await client.chat.completions.create({ ...ask('x'), stream: true });
    const pieces: string[] = [];
    const consume = async () => {
      for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? '');
    };

    await expect(consume()).rejects.toThrow();
    expect(pieces.join('')).toBe('Answer to: ');
  });

  it('when the server hangs then the client times out and the request counted as in flight until then', async () => {
    server.script('hang');
    const impatient = new OpenAI({ baseURL: server.url, apiKey, maxRetries: 0, timeout: 200 });
    const error: unknown = await impatient.chat.completions.create(ask('x')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.maxConcurrent).toBe(1);
  });
});
