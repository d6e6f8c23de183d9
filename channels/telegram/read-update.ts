/**
 * What an incoming Telegram update asks of the bot, decided without side effects: a message for the
 * conversation, a command, a non-text message to decline, or nothing (edits, other bots, group chatter that does
 * not address the bot). Group rule: the bot takes part when mentioned (@username), replied to, or commanded.
 */
import type { Chat, Message, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';
import type { ConversationRef } from '../../lib/conversations';
import { botCommands } from './commands';
import { telegramConversationId } from './conversation-id';

export type Intent =
  | { kind: 'message'; text: string }
  | { kind: 'command'; name: string }
  | { kind: 'unsupported' }
  | { kind: 'ignore'; reason: string };

export interface ReadUpdate {
  intent: Intent;
  /** Absent for ignored updates that carry no chat. */
  conversation?: ConversationRef;
  /** Stable across redelivery: the conversation's dedupe key. */
  messageId: string;
}

export function readUpdate(update: Update, me: UserFromGetMe, commandPrefix: string): ReadUpdate {
  const messageId = `tg:${update.update_id}`;
  const message = update.message;
  if (!message) return { messageId, intent: { kind: 'ignore', reason: updateKind(update) } };
  const conversation = conversationOf(message.chat, message.from);
  if (message.from?.is_bot) return { messageId, conversation, intent: { kind: 'ignore', reason: 'from a bot' } };
  return { messageId, conversation, intent: intentOf(message, me, commandPrefix) };
}

function intentOf(message: Message, me: UserFromGetMe, prefix: string): Intent {
  const text = message.text ?? message.caption;
  const entities = message.entities ?? message.caption_entities ?? [];
  const inGroup = message.chat.type !== 'private';
  const command = text === undefined ? undefined : readCommand(text, prefix);
  if (command) {
    // In a group, `/foo` without @this_bot may be meant for another bot: answer only the commands we know.
    const ours =
      command.addressee === undefined ? !inGroup || knownCommands.has(command.name) : command.addressee === me.username.toLowerCase();
    return ours ? { kind: 'command', name: command.name } : { kind: 'ignore', reason: 'command for another bot' };
  }

  const addressed = !inGroup || message.reply_to_message?.from?.id === me.id || mentions(text, entities, me);
  if (!addressed) return { kind: 'ignore', reason: 'group message not addressed to the bot' };
  if (text === undefined) return { kind: 'unsupported' };
  const cleaned = inGroup ? withoutMention(text, me.username) : text.trim();
  if (!cleaned) return { kind: 'command', name: 'help' };
  // In a group several people talk to the bot: the model needs to know who said what.
  return { kind: 'message', text: inGroup ? `${displayName(message.from)}: ${cleaned}` : cleaned };
}

const knownCommands: ReadonlySet<string> = new Set(botCommands.map((c) => c.command));

/** `/status`, `/status@this_bot some words` → name `status`, addressee `this_bot` (lower case). */
function readCommand(text: string, prefix: string): { name: string; addressee?: string } | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const match = /^([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s|$)/.exec(text.slice(prefix.length));
  if (!match) return undefined;
  const [, name, addressee] = match;
  return { name: name!.toLowerCase(), ...(addressee ? { addressee: addressee.toLowerCase() } : {}) };
}

function mentions(text: string | undefined, entities: MessageEntity[], me: UserFromGetMe): boolean {
  if (text === undefined) return false;
  return entities.some((entity) =>
    entity.type === 'text_mention'
      ? entity.user.id === me.id
      : entity.type === 'mention' && text.slice(entity.offset, entity.offset + entity.length).toLowerCase() === `@${me.username.toLowerCase()}`,
  );
}

function withoutMention(text: string, username: string): string {
  return text.replace(new RegExp(`@${username}\\b`, 'gi'), ' ').replace(/\s+/g, ' ').trim();
}

function conversationOf(chat: Chat, from: User | undefined): ConversationRef {
  const id = telegramConversationId(chat.id);
  if (chat.type === 'private') {
    const user = from?.username ?? chat.username ?? String(chat.id);
    const name = from?.username ? `@${from.username}` : (from?.first_name ?? chat.first_name ?? user);
    return { id, channel: 'telegram', user, clientId: String(chat.id), title: `Telegram chat with ${name}` };
  }
  return { id, channel: 'telegram', user: chat.username ?? String(chat.id), clientId: String(chat.id), title: `Telegram group "${chat.title}"` };
}

function displayName(user: User | undefined): string {
  if (!user) return 'someone';
  return user.username ? `@${user.username}` : [user.first_name, user.last_name].filter(Boolean).join(' ');
}

function updateKind(update: Update): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'empty update';
}
