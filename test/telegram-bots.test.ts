/**
 * Two bots sharing one Redis (and its key prefix): Telegram numbers updates per bot, so both see the same update_id
 * in the same chat, and neither may take the other's claim on an answer. Each bot runs as its own API process
 * (long polling) against its own local Bot API server; only the edge's own answers are asked for here.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { startTelegramServer, type TelegramServer } from '../scripts/simulators/telegram-server';

describe('two Telegram bots sharing one Redis', () => {
  const chat = 4242;
  const sharedPrefix = `test-bots-${randomUUID().slice(0, 8)}:`;
  let bots: { telegram: TelegramServer; engine: Engine }[] = [];

  beforeAll(async () => {
    bots = await Promise.all(
      [{ token: '111111111:first-bot', botUsername: 'first_bot' }, { token: '222222222:second-bot', botUsername: 'second_bot' }].map(
        async (options) => {
          const telegram = await startTelegramServer(options);
          const engine = await startEngine({
            worker: false,
            env: { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot, REDIS_KEY_PREFIX: sharedPrefix },
          });
          return { telegram, engine };
        },
      ),
    );
  }, 60_000);
  afterAll(async () => {
    for (const { engine, telegram } of bots) {
      await engine.stop();
      await telegram.close();
    }
  });

  const shown = (telegram: TelegramServer) => telegram.chatMessages(chat).filter((m) => !m.deleted).map((m) => m.text);

  it('when both get the same update_id in the same chat then both answer, and a redelivery is answered by neither', async () => {
    const help = bots.map(({ telegram }) => telegram.userSends({ from: { id: chat, username: 'alice' }, text: '/help' }));
    expect(help[0]!.update_id).toBe(help[1]!.update_id);
    for (const { telegram } of bots) {
      await eventually(() => shown(telegram).length === 1, { what: `the /help answer of @${telegram.botUser.username}` });
      expect(shown(telegram)[0]).toMatch(/AI assistant/);
    }

    const stickers = bots.map(({ telegram }) => telegram.userSends({ from: { id: chat }, kind: 'sticker' }));
    expect(stickers[0]!.update_id).toBe(stickers[1]!.update_id);
    for (const { telegram } of bots) {
      await eventually(() => shown(telegram).length === 2, { what: `the text-only answer of @${telegram.botUser.username}` });
      expect(shown(telegram)[1]).toMatch(/only read text/);
    }

    // Each bot still remembers its own answers: the repeat is dropped, the next update is answered.
    for (const [i, { telegram }] of bots.entries()) {
      telegram.redeliver(help[i]!);
      telegram.userSends({ from: { id: chat }, text: '/nonsense' });
    }
    for (const { telegram } of bots) {
      const what = `the answer after the repeat, @${telegram.botUser.username}`;
      await eventually(() => shown(telegram).some((text) => text.includes("don't know")), { what });
      expect(shown(telegram)).toHaveLength(3);
    }
  }, 60_000);
});
