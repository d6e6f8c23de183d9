/**
 * The local Telegram Bot API server, checked through grammY itself: if grammY's `Api` and `Bot` accept it, the
 * Telegram channel suites exercise the same code paths they would against api.telegram.org.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api, Bot, GrammyError, webhookCallback } from 'grammy';
import type { Update } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../lib/free-ports';
import { startTelegramServer, type TelegramServer } from '../scripts/simulators/telegram-server';

let telegram: TelegramServer;
let api: Api;
const receivers: Server[] = [];

beforeEach(async () => {
  telegram = await startTelegramServer({ webhookRetryMs: 20 });
  api = new Api(telegram.token, { apiRoot: telegram.apiRoot });
});
afterEach(async () => {
  await telegram.close();
  await Promise.all(receivers.splice(0).map((server) => new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections();
  })));
});

/** The GrammyError a call fails with; the test fails if the call succeeds. */
async function refusal(call: Promise<unknown>): Promise<GrammyError> {
  const error = await call.then(() => new Error('the call succeeded'), (reason: unknown) => reason);
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

/** A webhook receiver on 127.0.0.1; closed after the test. */
async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  receivers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Fails when `promise` takes longer than `ms`: a long poll must not sit out its whole timeout. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not answered within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const ids = (updates: Update[]) => updates.map((update) => update.update_id);

describe('the Bot API protocol', () => {
  it('when asked getMe then it answers the bot user', async () => {
    const me = await api.getMe();

    expect(me).toMatchObject({
      id: 123456789, is_bot: true, username: 'test_assistant_bot', can_join_groups: true,
      can_read_all_group_messages: false, supports_inline_queries: false,
    });
    expect(telegram.botUser).toMatchObject({ id: me.id, username: me.username, first_name: me.first_name });
  });

  it('when the token is wrong then 401 Unauthorized; when the method is unknown then 404 Not Found', async () => {
    const wrong = await refusal(new Api('999:wrong-token', { apiRoot: telegram.apiRoot }).getMe());
    expect(wrong).toMatchObject({ error_code: 401, description: 'Unauthorized' });

    const response = await fetch(`${telegram.apiRoot}/bot${telegram.token}/noSuchMethod`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
    expect(telegram.calls().map((call) => [call.method, call.errorCode])).toEqual([['getMe', 401], ['noSuchMethod', 404]]);
  });

  it('when parameters come as a form or a query string then they count like JSON, method names in any case', async () => {
    const chat = telegram.registerChat({ id: 1001 }).id;
    const form = await fetch(`${telegram.apiRoot}/bot${telegram.token}/sendMessage`, {
      method: 'POST', body: new URLSearchParams({ chat_id: String(chat), text: 'from a form' }),
    });
    const query = await fetch(`${telegram.apiRoot}/bot${telegram.token}/SENDMESSAGE?${new URLSearchParams({
      chat_id: String(chat), text: 'from <b>a query</b>', parse_mode: 'HTML',
    })}`);

    expect(form.status).toBe(200);
    expect(query.status).toBe(200);
    expect(((await query.json()) as { result: { entities: unknown } }).result.entities).toEqual([{ type: 'bold', offset: 5, length: 7 }]);
    expect(telegram.chatMessages(chat).map((m) => m.text)).toEqual(['from a form', 'from a query']);
    expect(telegram.calls('sendMessage')).toHaveLength(2);
  });

  it('when a call is scripted to fail then it fails like Telegram (429 with retry_after, 5xx), then works', async () => {
    const chat = telegram.registerChat({ id: 1001 }).id;
    telegram.failNext('sendMessage', 1, { errorCode: 429, retryAfter: 7 });
    telegram.failNext('sendMessage', 1, { errorCode: 502 });

    const limited = await refusal(api.sendMessage(chat, 'one'));
    const broken = await refusal(api.sendMessage(chat, 'two'));
    const sent = await api.sendMessage(chat, 'three');

    expect(limited).toMatchObject({ error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
    expect(broken).toMatchObject({ error_code: 502, description: 'Bad Gateway' });
    expect(sent.text).toBe('three');
    expect(telegram.calls('sendMessage').map((call) => [call.ok, call.errorCode])).toEqual([[false, 429], [false, 502], [true, undefined]]);
    expect(telegram.chatMessages(chat).map((m) => m.text)).toEqual(['three']);
  });
});

describe('long polling', () => {
  it('when a bot runs bot.start() then a user message reaches its handler and ctx.reply lands in the chat', async () => {
    const bot = new Bot(telegram.token, { client: { apiRoot: telegram.apiRoot } });
    const matches: string[] = [];
    bot.command('start', async (ctx) => {
      matches.push(ctx.match);
      await ctx.reply(`Hello, ${ctx.from?.first_name}!`, { reply_parameters: { message_id: ctx.msg.message_id } });
    });
    const running = bot.start();

    const update = telegram.userSends({ from: { id: 42, first_name: 'Ada' }, text: '/start now' });
    await telegram.waitFor(() => telegram.chatMessages(42).length === 1);
    await bot.stop();
    await running;

    expect(matches).toEqual(['now']);
    expect(telegram.chatMessages(42)).toMatchObject([
      { text: 'Hello, Ada!', reply_to_message_id: update.message!.message_id, deleted: false, edits: [] },
    ]);
    expect(telegram.calls('getUpdates')[0]?.params).toMatchObject({ timeout: 30 });
    expect(telegram.pendingUpdates()).toBe(0); // bot.stop() confirmed the update with its last offset
  });

  it('when updates are not confirmed then the same offset gets them again; a higher offset forgets them', async () => {
    const first = telegram.userSends({ text: 'one' });
    const second = telegram.userSends({ text: 'two' });

    const batch = await api.getUpdates();
    expect(ids(batch)).toEqual([first.update_id, second.update_id]);
    expect(batch[0]?.message).toMatchObject({ text: 'one', from: { id: 1001, is_bot: false }, chat: { id: 1001, type: 'private' } });
    expect(ids(await api.getUpdates({ offset: first.update_id }))).toEqual([first.update_id, second.update_id]);
    expect(ids(await api.getUpdates({ offset: second.update_id, limit: 1 }))).toEqual([second.update_id]);
    expect(telegram.pendingUpdates()).toBe(1);
    expect(await api.getUpdates({ offset: second.update_id + 1 })).toEqual([]);
    expect(telegram.pendingUpdates()).toBe(0);

    telegram.redeliver(first);
    expect(ids(await api.getUpdates({ offset: second.update_id + 1 }))).toEqual([first.update_id]);
    expect(await api.getUpdates({ offset: first.update_id + 1 })).toEqual([]);
  });

  it('when a long poll is waiting then it answers as soon as an update arrives, or with [] at its timeout', async () => {
    const poll = api.getUpdates({ timeout: 30 });
    await telegram.waitFor(() => telegram.calls('getUpdates').length === 1);
    const update = telegram.userSends({ text: 'wake up' });

    expect(ids(await within(5_000, poll))).toEqual([update.update_id]);
    expect(await api.getUpdates({ offset: update.update_id + 1, timeout: 1 })).toEqual([]);
  });

  it('when a second getUpdates arrives while one waits then the earlier one gets 409 Conflict', async () => {
    const earlier = refusal(api.getUpdates({ timeout: 30 }));
    await telegram.waitFor(() => telegram.calls('getUpdates').length === 1);
    const later = api.getUpdates({ timeout: 30 });

    expect(await earlier).toMatchObject({
      error_code: 409,
      description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
    telegram.userSends({ text: 'for the survivor' });
    expect((await within(5_000, later)).map((update) => update.message?.text)).toEqual(['for the survivor']);
  });

  it('when a webhook is set then getUpdates gets 409 until deleteWebhook', async () => {
    const url = `http://127.0.0.1:${await freePort()}/hook`;
    await api.setWebhook(url);

    expect(await refusal(api.getUpdates())).toMatchObject({
      error_code: 409,
      description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    });
    expect(await api.getWebhookInfo()).toMatchObject({ url, has_custom_certificate: false, pending_update_count: 0 });
    await api.deleteWebhook();
    expect(await api.getUpdates()).toEqual([]);
    expect(await api.getWebhookInfo()).toMatchObject({ url: '' });
  });
});

describe('webhooks', () => {
  it('when the receiver answers 500 then the same update comes again with the secret header until accepted', async () => {
    const received: { headers: IncomingHttpHeaders; body: unknown }[] = [];
    const statuses = [500, 200];
    const url = await listen(async (req, res) => {
      received.push({ headers: req.headers, body: JSON.parse(await bodyOf(req)) });
      res.writeHead(statuses.shift() ?? 200).end();
    });
    await api.setWebhook(url, { secret_token: 'hook-secret' });
    expect(telegram.webhook()).toEqual({ url, secretToken: 'hook-secret' });

    const update = telegram.userSends({ text: 'via webhook' });
    await telegram.waitFor(() => telegram.pendingUpdates() === 0);

    expect(telegram.webhookDeliveries().map((d) => [d.updateId, d.status])).toEqual([[update.update_id, 500], [update.update_id, 200]]);
    expect(received.map((r) => r.body)).toEqual([update, update]);
    expect(received.map((r) => r.headers['x-telegram-bot-api-secret-token'])).toEqual(['hook-secret', 'hook-secret']);
    const info = await api.getWebhookInfo();
    expect(info).toMatchObject({ url, pending_update_count: 0, last_error_message: 'Wrong response from the webhook: 500 Internal Server Error' });
    expect(info.last_error_date).toBeGreaterThan(0);
  });

  it('when the receiver is unreachable then deliveries fail as network errors and resume at a working URL', async () => {
    await api.setWebhook(`http://127.0.0.1:${await freePort()}/hook`);
    const update = telegram.userSends({ text: 'anyone?' });
    await telegram.waitFor(() => telegram.webhookDeliveries().length >= 2);
    expect(await api.getWebhookInfo()).toMatchObject({ pending_update_count: 1, last_error_message: 'Connection refused' });

    const url = await listen((_req, res) => res.writeHead(200).end());
    await api.setWebhook(url);
    await telegram.waitFor(() => telegram.pendingUpdates() === 0);

    const statuses = telegram.webhookDeliveries().map((d) => d.status);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.slice(0, -1).every((status) => status === 'network-error')).toBe(true);
    expect(new Set(telegram.webhookDeliveries().map((d) => d.updateId))).toEqual(new Set([update.update_id]));
  });

  it("when grammY's webhookCallback receives the updates then a wrong secret is refused and the right one answered", async () => {
    const bot = new Bot(telegram.token, { client: { apiRoot: telegram.apiRoot } });
    bot.on('message:text', (ctx) => ctx.reply(`got ${ctx.message.text}`));
    const url = await listen(webhookCallback(bot, 'http', { secretToken: 'right' }));

    await bot.api.setWebhook(url, { secret_token: 'wrong' });
    telegram.userSends({ from: { id: 7 }, text: 'knock' });
    await telegram.waitFor(() => telegram.webhookDeliveries().length >= 1);
    expect(telegram.webhookDeliveries()[0]?.status).toBe(401);

    await bot.api.setWebhook(url, { secret_token: 'right' });
    await telegram.waitFor(() => telegram.chatMessages(7).length === 1);
    expect(telegram.chatMessages(7)[0]?.text).toBe('got knock');
    expect(telegram.webhookDeliveries().at(-1)?.status).toBe(200);
  });

  it('when the webhook answers with a method call in its body (webhook reply) then the server executes it', async () => {
    const bot = new Bot(telegram.token, { client: { apiRoot: telegram.apiRoot, canUseWebhookReply: (method) => method === 'sendMessage' } });
    bot.on('message:text', (ctx) => ctx.reply(`replied to ${ctx.message.text}`));
    await bot.api.setWebhook(await listen(webhookCallback(bot, 'http')));

    telegram.userSends({ from: { id: 8 }, text: 'ping' });
    await telegram.waitFor(() => telegram.chatMessages(8).length === 1);

    expect(telegram.chatMessages(8)[0]?.text).toBe('replied to ping');
    expect(telegram.calls('sendMessage')).toMatchObject([{ ok: true, viaWebhookReply: true, params: { chat_id: 8 } }]);
  });
});

describe('messages', () => {
  it('when a message uses parse_mode HTML then the text is parsed into plain text and entities', async () => {
    const chat = telegram.registerChat({ id: 1001 }).id;
    const source = '<b>Bold</b>, <i>it</i> &amp; <a href="https://example.com">link</a>\n<pre><code class="language-ts">let x = 1;</code></pre>';

    const sent = await api.sendMessage(chat, source, { parse_mode: 'HTML' });

    expect(sent.text).toBe('Bold, it & link\nlet x = 1;');
    expect(sent.entities).toEqual([
      { type: 'bold', offset: 0, length: 4 },
      { type: 'italic', offset: 6, length: 2 },
      { type: 'text_link', offset: 11, length: 4, url: 'https://example.com/' },
      { type: 'pre', offset: 16, length: 10, language: 'ts' },
    ]);
    expect(sent).toMatchObject({ message_id: 1, from: { id: telegram.botUser.id, is_bot: true }, chat: { id: chat, type: 'private' } });
    expect(telegram.chatMessages(chat)).toMatchObject([{ text: sent.text, entities: sent.entities, raw: source, parse_mode: 'HTML' }]);
  });

  it.each([
    ['<b>unclosed', 'Can\'t find end tag corresponding to start tag "b"'],
    ['<foo>bar</foo>', 'Unsupported start tag "foo" at byte offset 0'],
    ['1 < 2', 'Unsupported start tag "" at byte offset 2'],
    ['<b><i>x</b></i>', 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'],
    ['héllo <br>', 'Unsupported start tag "br" at byte offset 7'],
    ['</i>', 'Unexpected end tag at byte offset 0'],
    ['<span>x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
  ])('when the HTML is %j then 400 can\'t parse entities: %s', async (text, detail) => {
    const chat = telegram.registerChat({ id: 1001 }).id;

    const error = await refusal(api.sendMessage(chat, text, { parse_mode: 'HTML' }));

    expect(error).toMatchObject({ error_code: 400, description: `Bad Request: can't parse entities: ${detail}` });
    expect(telegram.chatMessages(chat)).toEqual([]);
  });

  it('when a text is empty or longer than 4096 after parsing then 400, and exactly 4096 passes', async () => {
    const chat = telegram.registerChat({ id: 1001 }).id;

    expect(await refusal(api.sendMessage(chat, 'a'.repeat(4097)))).toMatchObject({ error_code: 400, description: 'Bad Request: message is too long' });
    expect(await refusal(api.sendMessage(chat, ' \n '))).toMatchObject({ error_code: 400, description: 'Bad Request: message text is empty' });
    expect(await refusal(api.sendMessage(chat, '<b> </b>', { parse_mode: 'HTML' }))).toMatchObject({ description: 'Bad Request: message text is empty' });
    const longest = await api.sendMessage(chat, `<b>${'a'.repeat(4096)}</b>`, { parse_mode: 'HTML' });
    expect(longest.text).toHaveLength(4096);
    expect(await refusal(api.sendMessage(424242, 'hello'))).toMatchObject({ error_code: 400, description: 'Bad Request: chat not found' });
  });

  it('when MarkdownV2 has an unescaped reserved character then 400; escaped and formatted text parses', async () => {
    const chat = telegram.registerChat({ id: 1001 }).id;

    const error = await refusal(api.sendMessage(chat, 'Price: 1.5', { parse_mode: 'MarkdownV2' }));
    const sent = await api.sendMessage(chat, '*Price:* 1\\.5 `code` [site](https://example.com)', { parse_mode: 'MarkdownV2' });

    expect(error.description).toBe("Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'");
    expect(sent.text).toBe('Price: 1.5 code site');
    expect(sent.entities).toEqual([
      { type: 'bold', offset: 0, length: 6 },
      { type: 'code', offset: 11, length: 4 },
      { type: 'text_link', offset: 16, length: 4, url: 'https://example.com/' },
    ]);
  });

  it('when a message is edited then its history grows; the same content again is "not modified"', async () => {
    const chat = telegram.registerChat({ id: 1001 }).id;
    const sent = await api.sendMessage(chat, 'draft');

    const edited = await api.editMessageText(chat, sent.message_id, '<b>final</b>', { parse_mode: 'HTML' });
    const same = await refusal(api.editMessageText(chat, sent.message_id, '<b>final</b>', { parse_mode: 'HTML' }));
    const missing = await refusal(api.editMessageText(chat, 999, 'nope'));
    await api.sendChatAction(chat, 'typing');
    expect(await api.deleteMessage(chat, sent.message_id)).toBe(true);
    const deleted = await refusal(api.editMessageText(chat, sent.message_id, 'too late'));

    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'final', entities: [{ type: 'bold', offset: 0, length: 5 }] });
    expect(same.description).toBe('Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
    expect(missing.description).toBe('Bad Request: message to edit not found');
    expect(deleted.description).toBe('Bad Request: message to edit not found');
    expect(telegram.chatMessages(chat)).toMatchObject([{ message_id: sent.message_id, text: 'final', edits: ['final'], raw: '<b>final</b>', deleted: true }]);
    expect(telegram.chatActions(chat)).toEqual(['typing']);
  });

  it('when commands are set per scope and language then each is read back and deleted on its own', async () => {
    const scope = { type: 'all_private_chats' as const };
    await api.setMyCommands([{ command: 'start', description: 'Start' }, { command: 'help', description: 'Help' }]);
    await api.setMyCommands([{ command: 'hilfe', description: 'Hilfe' }], { scope, language_code: 'de' });

    expect(await api.getMyCommands()).toEqual([{ command: 'start', description: 'Start' }, { command: 'help', description: 'Help' }]);
    expect(await api.getMyCommands({ scope, language_code: 'de' })).toEqual([{ command: 'hilfe', description: 'Hilfe' }]);
    expect(telegram.commands(scope, 'de')).toEqual([{ command: 'hilfe', description: 'Hilfe' }]);
    expect(await refusal(api.setMyCommands([{ command: 'Not Valid', description: 'x' }]))).toMatchObject({ description: 'Bad Request: BOT_COMMAND_INVALID' });
    await api.deleteMyCommands();
    expect(telegram.commands()).toEqual([]);
    expect(await api.getMyCommands({ scope, language_code: 'de' })).toHaveLength(1);
  });

  it('when users write in a group, reply, send media and edit then the updates look like Telegram\'s', async () => {
    const group = { id: -100123, type: 'supergroup' as const, title: 'Club' };
    telegram.userSends({ chat: group, from: { id: 5, username: 'bob' }, text: 'hi all' });
    const botMessage = await api.sendMessage(group.id, 'I am here');
    const reply = telegram.userSends({
      chat: group, from: { id: 5, username: 'bob' }, text: '@test_assistant_bot and /help@test_assistant_bot', replyToMessageId: botMessage.message_id,
    });
    const photo = telegram.userSends({ from: { id: 5 }, kind: 'photo', caption: 'look' });
    const edit = telegram.userEdits(group.id, reply.message!.message_id, 'edited');

    const updates = await api.getUpdates();

    expect(ids(updates)).toEqual([reply.update_id - 1, reply.update_id, photo.update_id, edit.update_id]);
    expect(updates[1]?.message).toMatchObject({
      message_id: 3,
      chat: { id: group.id, type: 'supergroup', title: 'Club' },
      from: { id: 5, username: 'bob', is_bot: false },
      reply_to_message: { message_id: botMessage.message_id, text: 'I am here', from: { is_bot: true } },
      entities: [{ type: 'mention', offset: 0, length: 19 }, { type: 'bot_command', offset: 24, length: 24 }],
    });
    expect(updates[2]?.message).toMatchObject({ chat: { id: 5, type: 'private' }, caption: 'look' });
    expect(updates[2]?.message?.photo).toHaveLength(3);
    expect(updates[3]?.edited_message).toMatchObject({ message_id: 3, text: 'edited' });
    expect(updates[3]?.edited_message?.edit_date).toBeGreaterThan(0);
  });
});
