/**
 * The Telegram edge refuses what a conversation could not hold: past `max_queued_messages` waiting, the user gets a
 * short "slow down" reply instead of a place in the queue, and every message that got a place is answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slowDownText } from '../channels/telegram/commands';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';
import { startTelegramServer, type TelegramServer } from '../scripts/simulators/telegram-server';

// Chat ids are workflow ids in the namespace every suite shares: this one is used by no other suite.
const chatId = 7301;

describe('a Telegram chat that writes faster than the bot answers', () => {
  let model: OpenAiServer;
  let telegram: TelegramServer;
  let engine: Engine;

  beforeAll(async () => {
    // The last user message of the turn, so the test can see which messages were answered.
    model = await startOpenAiServer({ answer: (body) => `answered: ${String(body.messages?.at(-1)?.content)}`, delayMs: 300 });
    telegram = await startTelegramServer({ botUsername: 'queue_bot' });
    engine = await startEngine({
      providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model', timeout: '30s' }],
      app: { conversation: { max_queued_messages: 2 }, telegram: { private_chat_gap: '50ms' } },
      env: { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
    });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await telegram?.close();
    await model?.close();
  });

  it('when more messages wait than the chat may queue then the excess gets "slow down" and the rest are answered', async () => {
    // The first answer takes seconds, so no place frees up before the edge has read all four messages.
    model.setDelayMs(4_000);
    for (const text of ['one', 'two', 'three', 'four']) telegram.userSends({ from: { id: chatId, username: 'hasty' }, text });

    const texts = () => telegram.chatMessages(chatId).filter((m) => !m.deleted && !m.text.endsWith(' …')).map((m) => m.text);
    // The edge answers the excess at once; 'one' and 'two' got places (they may be answered together: the model
    // sees the turn's last message).
    await eventually(() => texts().filter((t) => t === slowDownText).length === 2, { what: 'two "slow down" replies' });
    model.setDelayMs(0);
    await eventually(() => texts().includes('answered: two'), { what: 'the answer to "two"', timeoutMs: 90_000 }).catch(async (error: Error) => {
      const workflow = await engine.temporal.workflow.getHandle(`telegram:${chatId}`).describe().then(
        (d) => ({ status: d.status.name, pendingActivities: d.raw.pendingActivities?.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.message]) }),
        (e: Error) => e.message,
      );
      const requests = { received: model.chatRequests.length, inFlight: model.inFlight };
      throw new Error(`${error.message}; the chat shows ${JSON.stringify(texts())}; model ${JSON.stringify(requests)}; workflow ${JSON.stringify(workflow)}`);
    });
    expect(texts().filter((t) => /three|four/.test(t))).toEqual([]);

    // Once the queue has room again, the user is heard.
    telegram.userSends({ from: { id: chatId, username: 'hasty' }, text: 'five' });
    await eventually(() => texts().includes('answered: five'), { what: 'the answer to a message sent after the queue drained', timeoutMs: 90_000 });
  }, 240_000);
});
