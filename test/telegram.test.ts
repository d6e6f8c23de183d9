/**
 * The Telegram channel end to end, by long polling: grammY against the local Bot API server, a real worker and
 * Temporal, the model played by the local OpenAI-compatible server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { recordingHistories, saveHistories } from './support/histories';
import { startOpenAiServer, type ChatCompletionBody, type OpenAiServer } from '../scripts/simulators/openai-server';
import { startTelegramServer, type TelegramServer } from '../scripts/simulators/telegram-server';
import { longAnswer } from './support/telegram-answers';

/** The model answers with the user messages of this turn (after its last answer), so tests can check order. */
function answer(body: ChatCompletionBody): string {
  const messages = body.messages ?? [];
  const lastAnswer = messages.map((m) => m.role).lastIndexOf('assistant');
  const asked = messages.slice(lastAnswer + 1).filter((m) => m.role === 'user').map((m) => String(m.content));
  if (asked.some((text) => text.includes('long please'))) return longAnswer;
  return `answered: ${asked.join(' | ')}`;
}

/** The texts the bot shows in a chat now (after every edit), except a reply's live preview (it ends in " …"). */
function shown(telegram: TelegramServer, chatId: number): string[] {
  return telegram.chatMessages(chatId).filter((m) => !m.deleted && !m.text.endsWith(' …')).map((m) => m.text);
}

describe('the Telegram channel (long polling)', () => {
  let model: OpenAiServer;
  let telegram: TelegramServer;
  let engine: Engine;

  beforeAll(async () => {
    model = await startOpenAiServer({ answer, delayMs: 5 });
    telegram = await startTelegramServer({ botUsername: 'helper_bot' });
    engine = await startEngine({
      providers: [{ name: 'local', type: 'openai-compatible', endpoint: model.url, model: 'test-model', timeout: '30s', max_tokens: 8000 }],
      // Fast pacing keeps the suite quick; the gap logic itself is the same.
      app: { telegram: { private_chat_gap: '50ms', group_chat_gap: '50ms' } },
      env: { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
    });
  }, 60_000);
  afterAll(async () => {
    if (recordingHistories()) {
      // Telegram turns (preview, parts), commands with a reset, a group: for the replay test.
      for (const [chat, name] of [[101, 'telegram-chat'], [103, 'telegram-long'], [106, 'telegram-commands'], [-1009, 'telegram-group']] as const) {
        await saveHistories(engine.temporal, `telegram:${chat}`, name);
      }
    }
    await engine?.stop();
    await telegram?.close();
    await model?.close();
  });

  it('shows "typing…", then answers with exactly one message, in the right chat', async () => {
    // A model that takes a moment before its first token, as real ones do.
    model.setDelayMs(400);
    try {
      telegram.userSends({ from: { id: 101, username: 'alice' }, text: 'hello there' });
      await eventually(() => shown(telegram, 101).includes('answered: hello there'), { what: 'the reply in chat 101' });
    } finally {
      model.setDelayMs(5);
    }
    expect(telegram.chatMessages(101).map((m) => m.text)).toEqual(['answered: hello there']);
    expect(telegram.chatActions(101)).toContain('typing');
    const description = await engine.temporal.workflow.getHandle('telegram:101').describe();
    expect(await description.staticSummary()).toBe('Telegram chat with @alice');
  });

  it('answers 20 users writing at once, each in order, nothing lost or doubled', async () => {
    const users = Array.from({ length: 20 }, (_, i) => 2000 + i);
    for (const round of [1, 2, 3]) {
      for (const id of users) telegram.userSends({ from: { id, username: `user${id}` }, text: `u${id} m${round}` });
    }
    const answered = (id: number) =>
      shown(telegram, id).flatMap((text) => text.replace(/^answered: /, '').split(' | '));
    await eventually(() => users.every((id) => answered(id).length >= 3), { what: 'every message answered', timeoutMs: 90_000 });
    for (const id of users) expect(answered(id)).toEqual([`u${id} m1`, `u${id} m2`, `u${id} m3`]);
  }, 120_000);

  it('answers an update delivered twice only once', async () => {
    const first = telegram.userSends({ from: { id: 102 }, text: 'once' });
    await eventually(() => shown(telegram, 102).length === 1, { what: 'the first reply' });
    telegram.redeliver(first);
    telegram.userSends({ from: { id: 102 }, text: 'twice?' });
    // Turns run one at a time: a reply to the repeat would come before the reply to the next message.
    await eventually(() => shown(telegram, 102).includes('answered: twice?'), { what: 'the reply to the next message' });
    expect(shown(telegram, 102)).toEqual(['answered: once', 'answered: twice?']);
  });

  it('delivers a 10,000-character answer complete, in ordered parts of at most 4096, code blocks intact', async () => {
    model.setDelayMs(0);
    telegram.userSends({ from: { id: 103 }, text: 'long please' });
    await eventually(() => shown(telegram, 103).length >= 3, { what: 'the parts of the long answer', timeoutMs: 60_000 }).finally(
      () => model.setDelayMs(5),
    );
    const messages = telegram.chatMessages(103);
    for (const message of messages) expect(message.text.length).toBeLessThanOrEqual(4096);
    // Every line of the answer (code included, fences excepted) appears once, in order, across the parts.
    const expected = longAnswer.split('\n').filter((line) => !line.startsWith('```') && line.trim() !== '');
    const received = messages.flatMap((m) => m.text.split('\n')).filter((line) => line.trim() !== '');
    expect(received.map((line) => line.trim())).toEqual(expected.map((line) => line.replace(/\*\*/g, '').trim()));
    // Code arrives as Telegram code blocks, never as raw fences.
    expect(messages.some((m) => m.entities.some((e) => e.type === 'pre'))).toBe(true);
    expect(messages.every((m) => !m.text.includes('```'))).toBe(true);
  }, 90_000);

  it('rides out 429 storms on sends and edits: every reply arrives once, never before retry_after', async () => {
    telegram.failNext('sendMessage', 3, { errorCode: 429, retryAfter: 1 });
    telegram.failNext('editMessageText', 2, { errorCode: 429, retryAfter: 1 });
    // Slow enough that each answer streams for over a second: a preview is sent, then edited into the answer.
    model.setDelayMs(700);
    telegram.userSends({ from: { id: 104 }, text: 'storm 1' });
    telegram.userSends({ from: { id: 105 }, text: 'storm 2' });
    await eventually(
      () => shown(telegram, 104).includes('answered: storm 1') && shown(telegram, 105).includes('answered: storm 2'),
      { what: 'both replies', timeoutMs: 60_000 },
    ).finally(() => model.setDelayMs(5));
    expect(shown(telegram, 104)).toEqual(['answered: storm 1']);
    expect(shown(telegram, 105)).toEqual(['answered: storm 2']);
    // Once a 429 was answered, nothing went to that chat before its retry_after had passed; requests already on
    // their way when it was answered (within inFlightMs) are the only exception.
    const inFlightMs = 200;
    const calls = telegram.calls().filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText');
    const limited = calls.filter((c) => c.errorCode === 429);
    // Every injected 429 on sendMessage was met (edits are fewer when a reply is short).
    expect(limited.filter((c) => c.method === 'sendMessage')).toHaveLength(3);
    for (const refusal of limited) {
      const tooEarly = calls.filter(
        (c) => c.params.chat_id === refusal.params.chat_id && c.at > refusal.at + inFlightMs && c.at < refusal.at + 1000 - 20,
      );
      expect(tooEarly, `calls to chat ${String(refusal.params.chat_id)} within retry_after of its 429`).toEqual([]);
    }
  }, 90_000);

  it('sends an answer done within a second as one message; a longer one streams into one message, edited as it grows', async () => {
    const calls = (chat: number, method: string) => telegram.calls().filter((c) => c.method === method && Number(c.params.chat_id) === chat);
    telegram.userSends({ from: { id: 109 }, text: 'quick one' });
    await eventually(() => shown(telegram, 109).includes('answered: quick one'), { what: 'the quick reply' });
    expect(calls(109, 'sendMessage')).toHaveLength(1);
    expect(calls(109, 'editMessageText')).toEqual([]);

    const words = 'a slow answer that keeps the user watching it grow';
    model.setDelayMs(300);
    telegram.userSends({ from: { id: 110 }, text: words });
    await eventually(() => shown(telegram, 110).includes(`answered: ${words}`), { what: 'the streamed reply', timeoutMs: 30_000 }).finally(
      () => model.setDelayMs(5),
    );
    expect(telegram.chatMessages(110)).toHaveLength(1);
    expect(calls(110, 'sendMessage')).toHaveLength(1);
    // The preview grew at least once before the final edit made it the whole answer.
    expect(calls(110, 'editMessageText').length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('handles /start, /help, /status and /reset', async () => {
    const chat = 106;
    telegram.userSends({ from: { id: chat }, text: '/start' });
    await eventually(() => shown(telegram, chat).length === 1, { what: 'the /start answer' });
    expect(shown(telegram, chat)[0]).toContain('/reset');

    telegram.userSends({ from: { id: chat }, text: 'remember me' });
    await eventually(() => shown(telegram, chat).includes('answered: remember me'), { what: 'the reply' });
    telegram.userSends({ from: { id: chat }, text: '/status' });
    await eventually(() => shown(telegram, chat).length === 3, { what: 'the /status answer' });
    expect(shown(telegram, chat)[2]).toMatch(/Turns: 1\b[\s\S]*Context: 1 recent turns[\s\S]*Model: local\/test-model/);

    telegram.userSends({ from: { id: chat }, text: '/reset' });
    await eventually(() => shown(telegram, chat).length === 4, { what: 'the /reset answer' });
    expect(shown(telegram, chat)[3]).toMatch(/Fresh start/);
    telegram.userSends({ from: { id: chat }, text: '/status' });
    await eventually(() => shown(telegram, chat).length === 5, { what: 'the second /status answer' });
    expect(shown(telegram, chat)[4]).toMatch(/Context: 0 recent turns/);

    telegram.userSends({ from: { id: chat }, text: '/nonsense' });
    await eventually(() => shown(telegram, chat).length === 6, { what: 'the unknown-command answer' });
    expect(shown(telegram, chat)[5]).toMatch(/\/help/);
  }, 60_000);

  it('declines photos, stickers and voice kindly, reads captions, ignores edits', async () => {
    const chat = 107;
    telegram.userSends({ from: { id: chat }, kind: 'sticker' });
    await eventually(() => shown(telegram, chat).length === 1, { what: 'the text-only answer' });
    expect(shown(telegram, chat)[0]).toMatch(/only read text/);

    const captioned = telegram.userSends({ from: { id: chat }, kind: 'photo', caption: 'a cat' });
    await eventually(() => shown(telegram, chat).includes('answered: a cat'), { what: 'the reply to the caption' });
    telegram.userEdits(chat, captioned.message!.message_id, 'a dog');
    telegram.userSends({ from: { id: chat }, kind: 'voice' });
    await eventually(() => shown(telegram, chat).length === 3, { what: 'the second text-only answer' });
    expect(shown(telegram, chat)).toEqual([shown(telegram, chat)[0], 'answered: a cat', shown(telegram, chat)[0]]);
  });

  it('answers the same command update only once when it is delivered again', async () => {
    const update = telegram.userSends({ from: { id: 108 }, text: '/help' });
    await eventually(() => shown(telegram, 108).length === 1, { what: 'the /help answer' });
    telegram.redeliver(update);
    telegram.userSends({ from: { id: 108 }, text: 'after' });
    await eventually(() => shown(telegram, 108).includes('answered: after'), { what: 'the reply after the repeat' });
    expect(shown(telegram, 108)).toHaveLength(2);
  });

  it('in a group answers only when mentioned or replied to', async () => {
    const group = { id: -1009, type: 'supergroup' as const, title: 'Book club' };
    telegram.userSends({ chat: group, from: { id: 201, username: 'bob' }, text: 'anyone here?' });
    telegram.userSends({ chat: group, from: { id: 202, username: 'carol' }, text: '@helper_bot what is Dune?' });
    await eventually(() => shown(telegram, group.id).length === 1, { what: 'the reply to the mention' });
    expect(shown(telegram, group.id)).toEqual(['answered: @carol: what is Dune?']);
    const [botMessage] = telegram.chatMessages(group.id);
    telegram.userSends({ chat: group, from: { id: 201, username: 'bob' }, text: 'and the sequel?', replyToMessageId: botMessage!.message_id });
    await eventually(() => shown(telegram, group.id).length === 2, { what: 'the reply to the reply' });
    expect(shown(telegram, group.id)[1]).toBe('answered: @bob: and the sequel?');
    const description = await engine.temporal.workflow.getHandle(`telegram:${group.id}`).describe();
    expect(await description.staticSummary()).toBe('Telegram group "Book club"');
  });

  it('registers its commands once, not again on a restart', async () => {
    await eventually(() => telegram.commands().length === 4, { what: 'registered commands' });
    const second = await startEngine({
      worker: false,
      env: { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
    });
    try {
      await eventually(() => telegram.calls('getMyCommands').length >= 2, { what: 'the second start-up' });
    } finally {
      await second.stop();
    }
    expect(telegram.calls('setMyCommands')).toHaveLength(1);
  });
});
