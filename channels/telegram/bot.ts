/**
 * The grammY edge: turns each update into a conversation call (a `message` or `reset` signal) and answers the
 * few things that need no model (commands, non-text messages, "slow down" when the conversation's queue is full)
 * itself. No model call, no waiting for a reply.
 *
 * An update may arrive twice (polling after a restart, webhook redelivery). Messages and resets are deduplicated
 * by the workflow (`tg:<update_id>`); the edge's own answers are claimed once per bot and update in Redis, so a
 * repeat never answers twice. Only a failure to reach the workflow gives an update back for another try: a command
 * answer Telegram refuses is logged and dropped, so it can never hold up the updates behind it.
 */
import type { Tracer } from '@opentelemetry/api';
import { Bot, GrammyError, type Context } from 'grammy';
import type { Caller, ConversationRef, Conversations } from '../../lib/conversations';
import type { Logger } from '../../lib/logger';
import type { Redis } from '../../lib/redis';
import { LimitExceededError, NotFoundError, QueueFullError } from '../../lib/errors';
import type { MessageLimits } from '../../lib/rate-limits';
import { inSpan } from '../../lib/spans';
import { limitSubject } from '../../lib/token-budget';
import {
  helpText, resetText, restingText, slowDownText, statusText, statusUnavailableText, textOnlyText, tooFastText, unknownCommandText,
} from './commands';
import { readUpdate } from './read-update';

export interface TelegramEdgeDeps {
  conversations: Conversations;
  /** The same budgets as the HTTP API's; a Telegram chat counts as `tg:<chat id>` (limitSubject). */
  messageLimits: MessageLimits;
  redis: Redis;
  keyPrefix: string;
  commandPrefix: string;
  tracer: Tracer;
  logger: Logger;
}

/**
 * How long an answered update is remembered (Telegram keeps undelivered updates for 24 hours). Shorter than the week
 * without updates after which Telegram restarts a bot's update_id at a random number: a restarted sequence finds no
 * claim of the old one.
 */
const answeredTtlSeconds = 2 * 24 * 3600;

export function createTelegramBot(token: string, apiRoot: string, deps: TelegramEdgeDeps): Bot {
  const bot = new Bot(token, { client: { apiRoot } });
  // A span per update: its signal to the conversation carries the trace on to the reply's model call.
  bot.use((ctx) => inSpan(deps.tracer, 'telegram update', {}, () => handle(ctx, deps)));
  return bot;
}

async function handle(ctx: Context, deps: TelegramEdgeDeps): Promise<void> {
  const { logger } = deps;
  const read = readUpdate(ctx.update, ctx.me, deps.commandPrefix);
  const { intent, conversation, messageId } = read;
  if (!conversation || intent.kind === 'ignore') {
    logger.debug({ updateId: ctx.update.update_id, reason: intent.kind === 'ignore' ? intent.reason : 'no chat' }, 'telegram update ignored');
    return;
  }
  logger.info({ conversationId: conversation.id, messageId, intent: intent.kind }, 'telegram update');
  // Checked before a message is sent too: a message refused with "slow down" must not be taken on a redelivery.
  const answered = new AnswerClaim(deps, ctx.me.id, ctx.update.update_id);
  if (await answered.before()) {
    logger.info({ messageId }, 'telegram update answered before; not again');
    return;
  }
  let text: string;
  if (intent.kind === 'message') {
    const refusal = await send(conversation, messageId, intent.text, deps);
    if (refusal === undefined) return;
    text = refusal;
  } else {
    text = intent.kind === 'unsupported' ? textOnlyText : await runCommand(intent.name, conversation, messageId, deps);
  }
  if (!(await answered.claim())) return;
  try {
    await ctx.reply(text);
  } catch (error) {
    // Telegram answered (the user blocked the bot, the bot may not write here): retrying cannot help.
    if (error instanceof GrammyError) {
      logger.warn({ messageId, error: error.description }, 'telegram refused the answer to a command');
      return;
    }
    // The request may not have arrived: give the update back for another try.
    await answered.release();
    throw error;
  }
}

/**
 * Undefined once the message is on its way to the conversation; else what to tell the user: their queue is full,
 * or they are over their messages per minute.
 */
async function send(conversation: ConversationRef, messageId: string, text: string, deps: TelegramEdgeDeps): Promise<string | undefined> {
  try {
    await deps.messageLimits.within(limitSubject(conversation.id), conversation.id, messageId, () =>
      deps.conversations.send(conversation, { messageId, text, receivedAt: new Date().toISOString() }),
    );
    return undefined;
  } catch (error) {
    if (error instanceof LimitExceededError) {
      deps.logger.warn({ conversationId: conversation.id, messageId }, 'telegram message refused: over a per-user limit');
      return tooFastText(error.retryAfterSeconds);
    }
    if (!(error instanceof QueueFullError)) throw error;
    deps.logger.warn({ conversationId: conversation.id, messageId }, 'telegram message refused: too many messages waiting');
    return slowDownText;
  }
}

/** The answer to a command. Only `reset` must reach the workflow: its failure gives the update back for a retry. */
async function runCommand(name: string, conversation: ConversationRef, messageId: string, deps: TelegramEdgeDeps): Promise<string> {
  const { conversations, commandPrefix: prefix } = deps;
  switch (name) {
    case 'start':
    case 'help':
      return helpText(prefix);
    case 'reset':
      // The workflow drops a repeated reset (same request id), so a redelivered /reset resets once. A chat with no
      // conversation yet has nothing to reset.
      await conversations.reset(telegramCaller(conversation, messageId), conversation, messageId).catch((error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error;
      });
      return resetText;
    case 'status':
      return statusOf(conversation.id, deps);
    default:
      return unknownCommandText(prefix, name);
  }
}

async function statusOf(conversationId: string, deps: TelegramEdgeDeps): Promise<string> {
  try {
    if ((await deps.conversations.runState(conversationId)) !== 'running') return restingText;
    return statusText(await deps.conversations.snapshot(conversationId));
  } catch (error) {
    deps.logger.warn({ err: error, conversationId }, 'telegram /status: the conversation did not answer');
    return statusUnavailableText;
  }
}

/**
 * The edge answers each update at most once: a Redis key per update, claimed just before the answer is sent
 * (a crash between the claim and the send loses that one answer; the user can ask again). Telegram numbers
 * updates per bot, so the key names the bot too: bots sharing Redis never take each other's claims.
 */
class AnswerClaim {
  private readonly key: string;

  constructor(private readonly deps: TelegramEdgeDeps, botId: number, updateId: number) {
    this.key = `${deps.keyPrefix}tg:answered:${botId}:${updateId}`;
  }

  async before(): Promise<boolean> {
    return (await this.deps.redis.exists(this.key)) === 1;
  }

  async claim(): Promise<boolean> {
    return (await this.deps.redis.set(this.key, '1', 'EX', answeredTtlSeconds, 'NX')) === 'OK';
  }

  async release(): Promise<void> {
    await this.deps.redis.del(this.key);
  }
}

/** A chat acting on its own conversation, for the edge API's audit log. */
function telegramCaller(conversation: ConversationRef, messageId: string): Caller {
  return { principal: { user: conversation.id, role: 'user' }, requestId: messageId, ip: '' };
}
