/**
 * A worker SIGKILLed while it streams a Telegram reply: the user still sees one complete answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackHandle } from '../scripts/stack';
import { createRedis } from '../lib/redis';
import { testEnvironment } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { testServices } from './support/services';
import { startTestStack } from './support/stack';
import { startTelegramServer, type TelegramServer } from '../scripts/simulators/telegram-server';

const answer = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');

describe('a worker crash in the middle of a streamed Telegram reply', () => {
  let model: OpenAiServer;
  let telegram: TelegramServer;
  let stack: StackHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    model = await startOpenAiServer({ answer: () => answer, delayMs: 100 });
    telegram = await startTelegramServer({ botUsername: 'crash_bot' });
    env = testEnvironment({
      providers: [{ name: 'slow', type: 'openai-compatible', endpoint: model.url, model: 'test-model', timeout: '60s' }],
      app: { telegram: { private_chat_gap: '200ms' } },
      env: { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
    });
    stack = await startTestStack(env);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await telegram?.close();
    await model?.close();
  });

  it('when the worker dies mid-stream the chat ends with exactly one complete answer', async () => {
    const chat = 401;
    telegram.userSends({ from: { id: chat, username: 'gina' }, text: 'tell me a long story' });
    // Kill it once the user visibly watches the answer grow.
    await eventually(() => (telegram.chatMessages(chat)[0]?.edits.length ?? 0) >= 2, { what: 'a streaming preview', timeoutMs: 60_000 });
    const [victim] = stack.workerPids();
    process.kill(victim!, 'SIGKILL');

    await eventually(() => telegram.chatMessages(chat).some((m) => m.text === answer), { what: 'the complete answer', timeoutMs: 120_000 });
    const redis = createRedis(testServices().redisUrl);
    const uncertain = Number((await redis.get(`${env.REDIS_KEY_PREFIX}tg:uncertain-sends`)) ?? 0);
    redis.disconnect();
    const messages = telegram.chatMessages(chat);
    expect(messages.filter((m) => m.text === answer)).toHaveLength(1);
    // A second message can only come from the documented window (killed between Telegram's accept and the mark).
    expect(messages).toHaveLength(1 + uncertain);
    expect(model.chatRequests.length).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
