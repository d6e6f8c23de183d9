import type { Message, Update, UserFromGetMe } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { readUpdate } from '../channels/telegram/read-update';

const me = { id: 999, is_bot: true, first_name: 'Helper', username: 'helper_bot' } as UserFromGetMe;
const alice = { id: 42, is_bot: false, first_name: 'Alice', username: 'alice' };
const privateChat = { id: 42, type: 'private' as const, first_name: 'Alice', username: 'alice' };
const group = { id: -100123, type: 'supergroup' as const, title: 'Book club' };

function update(message: Partial<Message>, id = 7): Update {
  return { update_id: id, message: { message_id: 1, date: 0, chat: privateChat, from: alice, ...message } as Update['message'] & object };
}

function mention(text: string, name: string) {
  return [{ type: 'mention' as const, offset: text.indexOf(name), length: name.length }];
}

describe('reading a Telegram update', () => {
  it('turns a private text message into a message for conversation telegram:<chat id> with a stable message id', () => {
    const read = readUpdate(update({ text: '  hello there ' }, 123), me, '/');
    expect(read).toEqual({
      messageId: 'tg:123',
      intent: { kind: 'message', text: 'hello there' },
      conversation: { id: 'telegram:42', channel: 'telegram', user: 'alice', clientId: '42', title: 'Telegram chat with @alice' },
    });
  });

  it('takes a caption as the text and declines media without one', () => {
    expect(readUpdate(update({ caption: 'what is this?', photo: [] }), me, '/').intent).toEqual({ kind: 'message', text: 'what is this?' });
    expect(readUpdate(update({ sticker: {} as Message['sticker'] }), me, '/').intent).toEqual({ kind: 'unsupported' });
  });

  it('ignores edited messages, other bots and updates without a message', () => {
    const edited: Update = { update_id: 8, edited_message: { message_id: 1, date: 0, chat: privateChat, text: 'x' } as Update['edited_message'] & object };
    expect(readUpdate(edited, me, '/').intent).toEqual({ kind: 'ignore', reason: 'edited_message' });
    expect(readUpdate(update({ text: 'hi', from: { ...alice, is_bot: true } }), me, '/').intent.kind).toBe('ignore');
  });

  it('reads commands with the configured prefix, addressed to this bot or to none', () => {
    expect(readUpdate(update({ text: '/Status' }), me, '/').intent).toEqual({ kind: 'command', name: 'status'});
    expect(readUpdate(update({ text: '/reset@helper_bot now' }), me, '/').intent).toEqual({ kind: 'command', name: 'reset'});
    expect(readUpdate(update({ text: '/reset@other_bot' }), me, '/').intent.kind).toBe('ignore');
    // In a group an unknown command without @this_bot is someone else's; a known one or an addressed one is ours.
    expect(readUpdate(update({ chat: group, text: '/roll' }), me, '/').intent.kind).toBe('ignore');
    expect(readUpdate(update({ chat: group, text: '/roll@helper_bot' }), me, '/').intent).toEqual({ kind: 'command', name: 'roll' });
    expect(readUpdate(update({ chat: group, text: '/status' }), me, '/').intent).toEqual({ kind: 'command', name: 'status' });
    expect(readUpdate(update({ text: '!help' }), me, '!').intent).toEqual({ kind: 'command', name: 'help'});
    // With "!" as the prefix a slash is just text.
    expect(readUpdate(update({ text: '/help' }), me, '!').intent).toEqual({ kind: 'message', text: '/help' });
  });

  it('in a group answers only when mentioned or replied to, and says who spoke', () => {
    const chatter = readUpdate(update({ chat: group, text: 'anyone read Dune?' }), me, '/');
    expect(chatter.intent.kind).toBe('ignore');

    const text = 'hey @helper_bot summarize Dune';
    const mentioned = readUpdate(update({ chat: group, text, entities: mention(text, '@helper_bot') }), me, '/');
    expect(mentioned.intent).toEqual({ kind: 'message', text: '@alice: hey summarize Dune' });
    expect(mentioned.conversation).toMatchObject({ id: 'telegram:-100123', title: 'Telegram group "Book club"' });

    const botMessage = { message_id: 5, date: 0, chat: group, from: me, text: 'earlier answer' } as Message;
    const replied = readUpdate(update({ chat: group, text: 'and the sequel?', reply_to_message: botMessage as Message['reply_to_message'] }), me, '/');
    expect(replied.intent).toEqual({ kind: 'message', text: '@alice: and the sequel?' });

    const otherBot = '@other_bot hi';
    expect(readUpdate(update({ chat: group, text: otherBot, entities: mention(otherBot, '@other_bot') }), me, '/').intent.kind).toBe('ignore');
  });

  it('in a group declines media only when it is addressed to the bot', () => {
    const botMessage = { message_id: 5, date: 0, chat: group, from: me, text: 'earlier answer' } as Message;
    expect(readUpdate(update({ chat: group, sticker: {} as Message['sticker'] }), me, '/').intent.kind).toBe('ignore');
    const reply = update({ chat: group, sticker: {} as Message['sticker'], reply_to_message: botMessage as Message['reply_to_message'] });
    expect(readUpdate(reply, me, '/').intent).toEqual({ kind: 'unsupported' });
  });
});
