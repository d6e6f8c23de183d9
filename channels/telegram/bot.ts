/**
 * The grammY edge: turns each update into a conversation call (a `message` or `reset` signal) and answers the
 * few things that need no model (commands, non-text messages) itself. No model call, no waiting for a reply.
 *
 * An update may arrive twice (polling after a restart, webhook redelivery). Messages are deduplicated by the
 * workflow (`tg:<update_id>`); the edge's own answers are claimed once per update in Redis first, so a repeat
 * never answers twice (a crash between the claim and the answer loses that one answer; the user can ask again).
 */
import { Bot, type Context } from 'grammy';
import type { Conversations } from '../../lib/conversations';
import type { Logger } from '../../lib/logger';
import type { Redis } from '../../lib/redis';
import { helpText, resetText, restingText, statusText, textOnlyText, unknownCommandText } from './commands';
import { readUpdate, type ReadUpdate } from './read-update';

export interface TelegramEdgeDeps {
  conversations: Conversations;
  redis: Redis;
  keyPrefix: string;
  commandPrefix: string;
  logger: Logger;
}

/** How long an answered update is remembered (Telegram keeps undelivered updates for 24 hours). */
const answeredTtlSeconds = 2 * 24 * 3600;

export function createTelegramBot(token: string, apiRoot: string, deps: TelegramEdgeDeps): Bot {
  const bot = new Bot(token, { client: { apiRoot } });
  bot.use((ctx) => handle(ctx, deps));
  return bot;
}

async function handle(ctx: Context, deps: TelegramEdgeDeps): Promise<void> {
  const { conversations, commandPrefix: prefix, logger } = deps;
  const read = readUpdate(ctx.update, ctx.me, prefix);
  const { intent, conversation, messageId } = read;
  if (!conversation || intent.kind === 'ignore') {
    logger.debug({ updateId: ctx.update.update_id, reason: intent.kind === 'ignore' ? intent.reason : 'no chat' }, 'telegram update ignored');
    return;
  }
  logger.info({ conversationId: conversation.id, messageId, intent: intent.kind }, 'telegram update');
  switch (intent.kind) {
    case 'message':
      return conversations.send(conversation, { messageId, text: intent.text, receivedAt: new Date().toISOString() });
    case 'unsupported':
      return answerOnce(ctx, read, deps, async () => textOnlyText);
    case 'command':
      return answerOnce(ctx, read, deps, async () => {
        switch (intent.name) {
          case 'start':
          case 'help':
            return helpText(prefix);
          case 'reset':
            await conversations.reset(conversation, messageId);
            return resetText;
          case 'status':
            return (await conversations.runState(conversation.id)) === 'running'
              ? statusText(await conversations.snapshot(conversation.id))
              : restingText;
          default:
            return unknownCommandText(prefix, intent.name);
        }
      });
  }
}

/** Acts and answers once per update: the claim comes first and is released again when acting or answering fails. */
async function answerOnce(ctx: Context, read: ReadUpdate, deps: TelegramEdgeDeps, act: () => Promise<string>): Promise<void> {
  const key = `${deps.keyPrefix}tg:answered:${read.messageId}`;
  if ((await deps.redis.set(key, '1', 'EX', answeredTtlSeconds, 'NX')) !== 'OK') {
    deps.logger.info({ messageId: read.messageId }, 'telegram update answered before; not again');
    return;
  }
  try {
    await ctx.reply(await act());
  } catch (error) {
    await deps.redis.del(key);
    throw error;
  }
}
