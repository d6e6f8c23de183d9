/**
 * A local Telegram Bot API server for tests and the chaos drill: the real wire protocol (`/bot<token>/<method>` with JSON, form or
 * query parameters; `{ ok, result }` envelopes; Telegram's error codes and descriptions), long polling with
 * offset confirmation and 409 conflicts, webhooks with the secret header and redelivery until accepted, and
 * message text parsed in all three parse modes. grammY's `Api` and `Bot` pointed at `apiRoot` cannot tell it
 * from api.telegram.org. Tests play the user with `userSends()` and read what the bot did with
 * `chatMessages()`, `calls()` and friends.
 *
 * @example
 * const telegram = await startTelegramServer();
 * const bot = new Bot(telegram.token, { client: { apiRoot: telegram.apiRoot } });
 * bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
 * const running = bot.start();
 * const { message } = telegram.userSends({ text: 'hi' });
 * await telegram.waitFor(() => telegram.chatMessages(message!.chat.id).length === 1);
 * await bot.stop(); await running; await telegram.close();
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BotCommand, BotCommandScope, Chat, Message, MessageEntity, Update, User } from 'grammy/types';
import { waitUntil } from '../wait-until';
import {
  EntityParseError, parseFormattedText, trimFormattedText, withDetectedEntities, type FormattedText, type ParseMode,
} from './telegram-entities';

export interface TelegramServerOptions {
  /** Default `123456789:TEST-token`; the digits before `:` are the bot's user id, as with real tokens. */
  token?: string;
  /** Default `test_assistant_bot`. */
  botUsername?: string;
  /** First webhook redelivery delay; it doubles per failed attempt up to 2 s (or this value, if larger). Default 200. */
  webhookRetryMs?: number;
  /** A certificate (PEM) trusted for HTTPS webhooks beside the public CAs, as Telegram trusts real ones. */
  webhookCa?: string | Buffer;
}

/** A message a user writes to the bot. Defaults: user 1001 (`test_user`) in the private chat with the same id. */
export interface UserMessageInput {
  chat?: { id: number; type?: 'private' | 'group' | 'supergroup'; title?: string };
  from?: { id: number; username?: string; first_name?: string };
  text?: string;
  /** With `kind`; `text` is used as the caption when `caption` is absent. A caption alone means a photo. */
  caption?: string;
  kind?: 'photo' | 'sticker' | 'voice' | 'document';
  /** A message of that chat (the bot's or the user's) that this one replies to. */
  replyToMessageId?: number;
}

/** One message the bot sent, as it stands now. */
export interface SentMessage {
  chat_id: number;
  message_id: number;
  /** Current plain text (after entity parsing and trimming). */
  text: string;
  entities: MessageEntity[];
  /** The `parse_mode` of the latest send or edit, if any. */
  parse_mode?: string;
  /** The `text` parameter exactly as the bot sent it (latest version): HTML or Markdown source included. */
  raw: string;
  /** Plain texts set by each successful editMessageText, oldest first (empty when never edited). */
  edits: string[];
  reply_to_message_id?: number;
  deleted: boolean;
  /** The full Message object, as getUpdates/the API would show it now. */
  message: Message;
}

export interface RecordedCall {
  /** Canonical method name (Telegram's are case-insensitive), or the path segment for unknown methods. */
  method: string;
  params: Record<string, unknown>;
  /** Undefined while the call is unanswered (a waiting long poll) or when the client went away first. */
  ok: boolean | undefined;
  errorCode?: number;
  description?: string;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** True for a method call returned in the body of a webhook response. */
  viaWebhookReply?: boolean;
}

export type TelegramFailure =
  | { errorCode: 429; retryAfter: number; description?: string }
  | { errorCode: 500 | 502 | 503; description?: string };

export interface WebhookDelivery {
  updateId: number;
  status: number | 'network-error';
  at: number;
}

export interface TelegramServer {
  /** e.g. `http://127.0.0.1:41234`: pass it to grammY as `client.apiRoot`. */
  readonly apiRoot: string;
  readonly token: string;
  readonly botUser: { id: number; is_bot: true; username: string; first_name: string };
  /** A user writes to the bot: builds a real Update, queues it for getUpdates or pushes it to the webhook. */
  userSends(input?: UserMessageInput): Update;
  /** The user edits one of their messages: an `edited_message` update. */
  userEdits(chatId: number, messageId: number, newText: string): Update;
  /** Delivers the same update again, even if it was confirmed (Telegram's at-least-once delivery). */
  redeliver(update: Update): void;
  /** Makes a chat known (otherwise chats become known when a user writes from them). */
  registerChat(chat: { id: number; type?: 'private' | 'group' | 'supergroup'; title?: string; first_name?: string; username?: string }): Chat;
  /** The bot's messages in that chat, in send order, deleted ones included. */
  chatMessages(chatId: number): SentMessage[];
  /** Every API call in arrival order, optionally only those of one method. */
  calls(method?: string): RecordedCall[];
  /** Actions sent with sendChatAction to that chat, in order. */
  chatActions(chatId: number): string[];
  /** Commands set for a scope (default: `{ type: 'default' }`) and language (default: none). */
  commands(scope?: BotCommandScope, languageCode?: string): BotCommand[];
  webhook(): { url: string; secretToken?: string } | undefined;
  webhookDeliveries(): WebhookDelivery[];
  /** Updates not yet confirmed by an offset, nor accepted by the webhook. */
  pendingUpdates(): number;
  /** The next `count` calls of `method` fail as Telegram fails (429 with retry_after, or a 5xx). */
  failNext(method: string, count: number, failure: TelegramFailure): void;
  /** Resolves once `predicate` holds; rejects after `timeoutMs` (default 5000). */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Answers waiting long polls with no updates, stops webhook pushing, closes every connection. */
  close(): Promise<void>;
}

type Params = Record<string, unknown>;

type Outcome =
  | { ok: true; result: unknown; description?: string }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after: number } };

/** A refusal in Telegram's shape; method handlers throw it. */
class BotApiError extends Error {
  override name = 'BotApiError';
  constructor(readonly outcome: Extract<Outcome, { ok: false }>) {
    super(outcome.description);
  }
}

const failure = (error_code: number, description: string): Extract<Outcome, { ok: false }> => ({ ok: false, error_code, description });
const badRequest = (what: string): never => {
  throw new BotApiError(failure(400, `Bad Request: ${what}`));
};
const done = (result: unknown, description?: string): Outcome => ({ ok: true, result, ...(description ? { description } : {}) });

const CONFLICT_POLL = 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
const CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const NOT_MODIFIED = 'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice', 'upload_document',
  'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);
const PARSE_MODES: Record<string, ParseMode> = { html: 'HTML', markdownv2: 'MarkdownV2', markdown: 'Markdown' };
/** Update types Telegram leaves out unless `allowed_updates` names them. */
const OPT_IN_UPDATES = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);
const MAX_TEXT_LENGTH = 4096;
const DEFAULT_USER = { id: 1001, username: 'test_user', first_name: 'Test User' };

interface StoredMessage {
  message: Message;
  byBot: boolean;
  raw: string;
  parseMode?: string;
  edits: string[];
  deleted: boolean;
}

interface ChatState {
  chat: Chat;
  nextMessageId: number;
  /** Insertion order is send order. */
  messages: Map<number, StoredMessage>;
  actions: string[];
}

interface PendingUpdate {
  update: Update;
  /** Redelivered on purpose: handed out once even if an offset already confirmed its id. */
  forced: boolean;
}

interface WaitingPoll {
  limit: number;
  answer: (outcome: Outcome) => void;
  timer: NodeJS.Timeout;
}

interface WebhookState {
  url: string;
  secretToken?: string;
  maxConnections: number;
  /** Aborted when the webhook is replaced or deleted: stops its delivery attempt and backoff at once. */
  stop: AbortController;
}

/** Starts the server on 127.0.0.1 with an ephemeral port. */
export async function startTelegramServer(options: TelegramServerOptions = {}): Promise<TelegramServer> {
  const token = options.token ?? '123456789:TEST-token';
  const botId = /^(\d+):[\w-]+$/.exec(token)?.[1];
  if (!botId) throw new Error(`startTelegramServer: a token looks like "<digits>:<letters>", got "${token}"`);
  const botUser = { id: Number(botId), is_bot: true as const, first_name: 'Test Assistant', username: options.botUsername ?? 'test_assistant_bot' };
  const retryMs = options.webhookRetryMs ?? 200;

  const chats = new Map<number, ChatState>();
  const users = new Map<number, User>();
  const recorded: RecordedCall[] = [];
  const failures = new Map<string, Extract<Outcome, { ok: false }>[]>();
  const commandSets = new Map<string, BotCommand[]>();
  const deliveries: WebhookDelivery[] = [];
  let pending: PendingUpdate[] = [];
  let nextUpdateId = 100_001;
  let allowedUpdates: string[] = [];
  let poll: WaitingPoll | undefined;
  let webhook: WebhookState | undefined;
  let lastWebhookError: { date: number; message: string } | undefined;
  let pushing = false;
  let closed = false;

  const now = () => Math.floor(Date.now() / 1000);

  // --- chats, users, messages ------------------------------------------------------------------------------------

  function ensureChat(input: Parameters<TelegramServer['registerChat']>[0]): ChatState {
    const existing = chats.get(input.id);
    if (existing) return existing;
    const type = input.type ?? 'private';
    const user = users.get(input.id);
    const username = input.username ?? user?.username;
    const chat: Chat = type === 'private'
      ? { id: input.id, type, first_name: input.first_name ?? user?.first_name ?? `User ${input.id}`, ...(username ? { username } : {}) }
      : { id: input.id, type, title: input.title ?? (type === 'group' ? 'Test group' : 'Test supergroup') };
    const state: ChatState = { chat, nextMessageId: 1, messages: new Map(), actions: [] };
    chats.set(input.id, state);
    return state;
  }

  function knownUser(input: { id: number; username?: string; first_name?: string }): User {
    const previous = users.get(input.id);
    const username = input.username ?? previous?.username;
    const user: User = {
      id: input.id, is_bot: false, first_name: input.first_name ?? previous?.first_name ?? `User ${input.id}`,
      ...(username ? { username } : {}), language_code: 'en',
    };
    users.set(user.id, user);
    return user;
  }

  function chatState(chatId: number): ChatState {
    const state = chats.get(chatId);
    if (!state) throw new Error(`telegram-server: chat ${chatId} is unknown (no user wrote from it, not registered)`);
    return state;
  }

  /** A copy fit for `reply_to_message`: Telegram never nests replies further. */
  function asReply(message: Message): NonNullable<Message['reply_to_message']> {
    const copy = structuredClone(message);
    delete copy.reply_to_message;
    return copy as NonNullable<Message['reply_to_message']>;
  }

  function sentMessage(chatId: number, stored: StoredMessage): SentMessage {
    const { message } = stored;
    return {
      chat_id: chatId,
      message_id: message.message_id,
      text: message.text ?? '',
      entities: structuredClone(message.entities ?? []),
      ...(stored.parseMode ? { parse_mode: stored.parseMode } : {}),
      raw: stored.raw,
      edits: [...stored.edits],
      ...(message.reply_to_message ? { reply_to_message_id: message.reply_to_message.message_id } : {}),
      deleted: stored.deleted,
      message: structuredClone(message),
    };
  }

  // --- the update queue: long polling and webhook --------------------------------------------------------------

  function enqueue(update: Update, forced = false): void {
    const type = Object.keys(update).find((key) => key !== 'update_id') ?? '';
    const wanted = allowedUpdates.length > 0 ? allowedUpdates.includes(type) : !OPT_IN_UPDATES.has(type);
    if (!wanted || closed) return;
    pending.push({ update: structuredClone(update), forced });
    pending.sort((a, b) => a.update.update_id - b.update.update_id);
    // Wake the long poll on the next turn, so that updates sent together arrive in one batch.
    if (poll) {
      setImmediate(() => {
        if (poll && pending.length > 0) finishPoll(poll, done(take(poll.limit)));
      });
    }
    if (webhook) void pushUpdates();
  }

  function newUpdate(body: Omit<Update, 'update_id'>): Update {
    const update = { update_id: nextUpdateId++, ...structuredClone(body) } as Update;
    enqueue(update);
    return update;
  }

  /** `offset` confirms every update with a smaller id; a negative one keeps only the last `-offset` updates. */
  function confirm(offset: number | undefined): void {
    if (offset === undefined || offset === 0) return;
    pending = offset < 0 ? pending.slice(offset) : pending.filter((entry) => entry.forced || entry.update.update_id >= offset);
  }

  function take(limit: number): Update[] {
    const batch = pending.slice(0, limit);
    for (const entry of batch) entry.forced = false;
    return batch.map((entry) => structuredClone(entry.update));
  }

  function finishPoll(waiting: WaitingPoll, outcome: Outcome): void {
    if (poll !== waiting) return;
    clearTimeout(waiting.timer);
    poll = undefined;
    waiting.answer(outcome);
  }

  function getUpdates(params: Params, answer: (outcome: Outcome) => void, res: ServerResponse): void {
    if (webhook) return answer(failure(409, CONFLICT_WEBHOOK));
    if (poll) finishPoll(poll, failure(409, CONFLICT_POLL));
    const requested = int(params, 'offset');
    const limitParam = int(params, 'limit') ?? 100;
    const limit = limitParam <= 0 || limitParam > 100 ? 100 : limitParam;
    const timeoutSeconds = Math.max(0, Number(params.timeout ?? 0) || 0);
    const allowed = json(params, 'allowed_updates');
    if (Array.isArray(allowed)) allowedUpdates = allowed.map(String);
    confirm(requested);
    if (pending.length > 0 || timeoutSeconds === 0 || closed) return answer(done(take(limit)));
    const waiting: WaitingPoll = {
      limit,
      answer,
      timer: setTimeout(() => finishPoll(waiting, done(take(limit))), timeoutSeconds * 1000),
    };
    poll = waiting;
    res.once('close', () => {
      // The client gave up (e.g. grammY's bot.stop() aborts its poll): nobody is waiting any more.
      if (poll === waiting && !res.writableEnded) {
        clearTimeout(waiting.timer);
        poll = undefined;
      }
    });
  }

  async function pushUpdates(): Promise<void> {
    if (pushing) return;
    pushing = true;
    const target = webhook;
    try {
      let failed = 0;
      while (target && webhook === target && !closed && pending.length > 0) {
        const entry = pending[0]!;
        const status = await deliver(target, entry.update);
        if (target.stop.signal.aborted) break; // replaced, deleted or closed mid-flight: not a real attempt
        deliveries.push({ updateId: entry.update.update_id, status, at: Date.now() });
        if (typeof status === 'number' && status >= 200 && status < 300) {
          pending = pending.filter((other) => other !== entry);
          failed = 0;
          continue;
        }
        failed += 1;
        const delay = Math.min(retryMs * 2 ** (failed - 1), Math.max(2000, retryMs));
        await sleep(delay, undefined, { signal: target.stop.signal }).catch(() => undefined);
      }
    } finally {
      pushing = false;
    }
    // The webhook may have been replaced while this loop was busy with the old one.
    if (webhook && webhook !== target && !closed && pending.length > 0) void pushUpdates();
  }

  async function deliver(target: WebhookState, update: Update): Promise<number | 'network-error'> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.secretToken) headers['x-telegram-bot-api-secret-token'] = target.secretToken;
    try {
      const signal = AbortSignal.any([target.stop.signal, AbortSignal.timeout(10_000)]);
      const response = options.webhookCa && target.url.startsWith('https:')
        ? await postTrusting(options.webhookCa, target.url, headers, JSON.stringify(update), signal)
        : await fetch(target.url, { method: 'POST', headers, body: JSON.stringify(update), signal });
      const body = await response.text();
      if (!response.ok) {
        lastWebhookError = { date: now(), message: `Wrong response from the webhook: ${response.status} ${STATUS_CODES[response.status] ?? ''}`.trim() };
      } else {
        runWebhookReply(response.headers.get('content-type'), body);
      }
      return response.status;
    } catch (error) {
      if (!target.stop.signal.aborted) lastWebhookError = { date: now(), message: networkErrorMessage(error) };
      return 'network-error';
    }
  }

  /** A webhook may answer with a method call in its body; Telegram executes it (grammY's webhook replies). */
  function runWebhookReply(contentType: string | null, body: string): void {
    if (!contentType?.includes('application/json') || !body) return;
    const reply = parseJson(body);
    if (typeof reply !== 'object' || reply === null || typeof (reply as Params).method !== 'string') return;
    const { method: name, ...params } = reply as Params;
    const method = canonicalMethod(String(name));
    const call: RecordedCall = { method: method ?? String(name), params, ok: undefined, at: Date.now(), viaWebhookReply: true };
    recorded.push(call);
    const outcome = method && method !== 'getUpdates' ? run(method, params) : failure(404, 'Not Found');
    record(call, outcome);
  }

  // --- methods ---------------------------------------------------------------------------------------------------

  function resolveChat(params: Params): ChatState {
    const raw = params.chat_id;
    if (raw === undefined || raw === null || raw === '') badRequest('chat_id is empty');
    const id = typeof raw === 'number' ? raw : /^-?\d+$/.test(String(raw)) ? Number(raw) : undefined;
    const state = id === undefined ? undefined : chats.get(id);
    return state ?? badRequest('chat not found');
  }

  function storedMessage(state: ChatState, params: Params, missing: string): StoredMessage {
    const id = int(params, 'message_id');
    if (id === undefined) badRequest('message identifier is not specified');
    const stored = state.messages.get(id!);
    return stored && !stored.deleted ? stored : badRequest(missing);
  }

  /** The text as Telegram stores it: parsed, trimmed, with detected entities, checked for emptiness and length. */
  function formatText(params: Params): { formatted: FormattedText; raw: string; parseMode?: string } {
    const raw = str(params, 'text') ?? '';
    const parseMode = str(params, 'parse_mode');
    let formatted: FormattedText = { text: raw, entities: (json(params, 'entities') as MessageEntity[] | undefined) ?? [] };
    if (raw && parseMode && parseMode.toLowerCase() !== 'none') {
      const mode = PARSE_MODES[parseMode.toLowerCase()] ?? badRequest('unsupported parse_mode');
      try {
        formatted = parseFormattedText(raw, mode);
      } catch (error) {
        if (error instanceof EntityParseError) badRequest(`can't parse entities: ${error.message}`);
        throw error;
      }
    }
    formatted = withDetectedEntities(trimFormattedText(formatted), { botCommands: false });
    if (!formatted.text) badRequest('message text is empty');
    if (formatted.text.length > MAX_TEXT_LENGTH) badRequest('message is too long');
    // A text mention needs a user the bot has met; Telegram drops the others.
    const entities = formatted.entities.flatMap((entity): MessageEntity[] => {
      if (entity.type !== 'text_mention') return [entity];
      const user = users.get(entity.user.id);
      return user ? [{ ...entity, user }] : [];
    });
    return { formatted: { text: formatted.text, entities }, raw, ...(parseMode ? { parseMode } : {}) };
  }

  function replyTarget(state: ChatState, params: Params): StoredMessage | undefined {
    const legacyId = int(params, 'reply_to_message_id');
    const reply = (json(params, 'reply_parameters') as { message_id?: number; allow_sending_without_reply?: boolean } | undefined)
      ?? (legacyId === undefined ? undefined : { message_id: legacyId, allow_sending_without_reply: bool(params, 'allow_sending_without_reply') });
    if (!reply?.message_id) return undefined;
    const target = state.messages.get(Number(reply.message_id));
    if (target && !target.deleted) return target;
    return reply.allow_sending_without_reply ? undefined : badRequest('message to be replied not found');
  }

  function inlineMarkup(params: Params): Message['reply_markup'] {
    const markup = json(params, 'reply_markup') as Message['reply_markup'] | Params | undefined;
    return markup && 'inline_keyboard' in markup ? (markup as Message['reply_markup']) : undefined;
  }

  function commandKey(scope: unknown, languageCode: unknown): string {
    const s = (typeof scope === 'string' ? parseJson(scope) : scope) as { type?: string; chat_id?: unknown; user_id?: unknown } | undefined;
    return JSON.stringify([s?.type ?? 'default', s?.chat_id ?? null, s?.user_id ?? null, languageCode ?? '']);
  }

  const methods: Record<string, (params: Params) => Outcome> = {
    getMe: () => done({
      ...botUser, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false,
      can_connect_to_business: false, has_main_web_app: false,
    }),

    sendMessage: (params) => {
      const state = resolveChat(params);
      const { formatted, raw, parseMode } = formatText(params);
      const reply = replyTarget(state, params);
      const markup = inlineMarkup(params);
      const linkPreview = json(params, 'link_preview_options') as Message['link_preview_options'];
      const message: Message = {
        message_id: state.nextMessageId++,
        from: { ...botUser },
        chat: state.chat,
        date: now(),
        ...(reply ? { reply_to_message: asReply(reply.message) } : {}),
        text: formatted.text,
        ...(formatted.entities.length > 0 ? { entities: formatted.entities } : {}),
        ...(linkPreview ? { link_preview_options: linkPreview } : {}),
        ...(bool(params, 'protect_content') ? { has_protected_content: true as const } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      };
      state.messages.set(message.message_id, { message, byBot: true, raw, ...(parseMode ? { parseMode } : {}), edits: [], deleted: false });
      return done(message);
    },

    editMessageText: (params) => {
      if (params.inline_message_id !== undefined) badRequest('message to edit not found');
      const state = resolveChat(params);
      const stored = storedMessage(state, params, 'message to edit not found');
      if (!stored.byBot) badRequest("message can't be edited");
      if (stored.message.text === undefined) badRequest('there is no text in the message to edit');
      const { formatted, raw, parseMode } = formatText(params);
      const markup = inlineMarkup(params);
      const { message } = stored;
      if (message.text === formatted.text && JSON.stringify(message.entities ?? []) === JSON.stringify(formatted.entities)
        && JSON.stringify(message.reply_markup) === JSON.stringify(markup)) {
        badRequest(NOT_MODIFIED);
      }
      message.text = formatted.text;
      if (formatted.entities.length > 0) message.entities = formatted.entities;
      else delete message.entities;
      if (markup) message.reply_markup = markup;
      else delete message.reply_markup;
      message.edit_date = now();
      stored.raw = raw;
      if (parseMode) stored.parseMode = parseMode;
      else delete stored.parseMode;
      stored.edits.push(formatted.text);
      return done(structuredClone(message));
    },

    deleteMessage: (params) => {
      const stored = storedMessage(resolveChat(params), params, 'message to delete not found');
      stored.deleted = true;
      return done(true);
    },

    sendChatAction: (params) => {
      const state = resolveChat(params);
      const action = str(params, 'action') ?? '';
      if (!CHAT_ACTIONS.has(action)) badRequest('wrong parameter action in request');
      state.actions.push(action);
      return done(true);
    },

    setMyCommands: (params) => {
      const list = json(params, 'commands');
      if (!Array.isArray(list)) badRequest("can't parse commands JSON object");
      const commands = (list as Partial<BotCommand>[]).map((entry) => {
        if (typeof entry.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(entry.command.replace(/^\//, ''))) {
          badRequest('BOT_COMMAND_INVALID');
        }
        if (typeof entry.description !== 'string' || !entry.description.trim() || entry.description.length > 256) {
          badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
        }
        return { command: entry.command!.replace(/^\//, ''), description: entry.description! };
      });
      commandSets.set(commandKey(params.scope, params.language_code), commands);
      return done(true);
    },
    getMyCommands: (params) => done(structuredClone(commandSets.get(commandKey(params.scope, params.language_code)) ?? [])),
    deleteMyCommands: (params) => {
      commandSets.delete(commandKey(params.scope, params.language_code));
      return done(true);
    },

    setWebhook: (params) => {
      const url = str(params, 'url') ?? '';
      if (!url) return methods.deleteWebhook!(params);
      let protocol: string;
      try {
        protocol = new URL(url).protocol;
      } catch {
        return badRequest('bad webhook: Failed to resolve host: Name or service not known');
      }
      // Telegram insists on HTTPS; a local stand-in has to accept plain HTTP receivers.
      if (protocol !== 'https:' && protocol !== 'http:') badRequest('bad webhook: An HTTPS URL must be provided for webhook');
      const secretToken = str(params, 'secret_token');
      if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) badRequest('secret token contains unallowed characters');
      if (bool(params, 'drop_pending_updates')) pending = [];
      const allowed = json(params, 'allowed_updates');
      if (Array.isArray(allowed)) allowedUpdates = allowed.map(String);
      const unchanged = webhook?.url === url && webhook.secretToken === secretToken;
      webhook?.stop.abort();
      webhook = { url, ...(secretToken ? { secretToken } : {}), maxConnections: int(params, 'max_connections') ?? 40, stop: new AbortController() };
      lastWebhookError = undefined;
      if (poll) finishPoll(poll, failure(409, 'Conflict: terminated by setWebhook request'));
      void pushUpdates();
      return done(true, unchanged ? 'Webhook is already set' : 'Webhook was set');
    },

    deleteWebhook: (params) => {
      if (bool(params, 'drop_pending_updates')) pending = [];
      if (!webhook) return done(true, 'Webhook is already deleted');
      webhook.stop.abort();
      webhook = undefined;
      return done(true, 'Webhook was deleted');
    },

    getWebhookInfo: () => done({
      url: webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: pending.length,
      ...(webhook ? { max_connections: webhook.maxConnections, ip_address: '127.0.0.1' } : {}),
      ...(webhook && allowedUpdates.length > 0 ? { allowed_updates: allowedUpdates } : {}),
      ...(lastWebhookError ? { last_error_date: lastWebhookError.date, last_error_message: lastWebhookError.message } : {}),
    }),
  };

  const canonical = new Map([...Object.keys(methods), 'getUpdates'].map((name) => [name.toLowerCase(), name]));
  const canonicalMethod = (name: string) => canonical.get(name.toLowerCase());

  function run(method: string, params: Params): Outcome {
    const scripted = failures.get(method)?.shift();
    if (scripted) return scripted;
    try {
      return methods[method]!(params);
    } catch (error) {
      if (error instanceof BotApiError) return error.outcome;
      throw error;
    }
  }

  function record(call: RecordedCall, outcome: Outcome): void {
    call.ok = outcome.ok;
    if (!outcome.ok) {
      call.errorCode = outcome.error_code;
      call.description = outcome.description;
    }
  }

  // --- HTTP ------------------------------------------------------------------------------------------------------

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const route = /^\/bot([^/]+)\/([^/]*)$/.exec(url.pathname);
    if (!route) return sendJson(res, failure(404, 'Not Found'));
    const params = await readParams(req, url, raw);
    if (params === undefined) return sendJson(res, failure(400, "Bad Request: can't parse JSON object"));
    const method = canonicalMethod(route[2]!);
    const call: RecordedCall = { method: method ?? route[2]!, params, ok: undefined, at: Date.now() };
    recorded.push(call);
    const answer = (outcome: Outcome) => {
      record(call, outcome);
      sendJson(res, outcome);
    };
    if (decodeURIComponent(route[1]!) !== token) return answer(failure(401, 'Unauthorized'));
    if (!method) return answer(failure(404, 'Not Found'));
    if (method !== 'getUpdates') return answer(run(method, params));
    // getUpdates may answer later (a long poll), so it answers by itself rather than through run().
    const scripted = failures.get(method)?.shift();
    if (scripted) return answer(scripted);
    try {
      getUpdates(params, answer, res);
    } catch (error) {
      if (!(error instanceof BotApiError)) throw error;
      answer(error.outcome);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, failure(500, `Internal Server Error: ${(error as Error).message}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    botUser,

    userSends(input = {}) {
      const from = knownUser(input.from ?? DEFAULT_USER);
      const chat = input.chat ?? { id: from.id };
      const state = ensureChat(chat);
      const message: Message = { message_id: state.nextMessageId++, from, chat: state.chat, date: now() };
      if (input.replyToMessageId !== undefined) {
        const target = state.messages.get(input.replyToMessageId);
        if (!target) throw new Error(`userSends: no message ${input.replyToMessageId} in chat ${chat.id} to reply to`);
        message.reply_to_message = asReply(target.message);
      }
      const kind = input.kind ?? (input.caption !== undefined && input.text === undefined ? 'photo' : undefined);
      if (kind) {
        Object.assign(message, media(kind, message.message_id));
        const caption = input.caption ?? input.text;
        if (caption && kind !== 'sticker') {
          const { entities } = withDetectedEntities({ text: caption, entities: [] }, { botCommands: true });
          message.caption = caption;
          if (entities.length > 0) message.caption_entities = entities;
        }
      } else {
        if (!input.text) throw new Error('userSends: give a non-empty text, or a caption or kind for a media message');
        const { entities } = withDetectedEntities({ text: input.text, entities: [] }, { botCommands: true });
        message.text = input.text;
        if (entities.length > 0) message.entities = entities;
      }
      state.messages.set(message.message_id, { message, byBot: false, raw: input.text ?? input.caption ?? '', edits: [], deleted: false });
      return newUpdate({ message } as Omit<Update, 'update_id'>);
    },

    userEdits(chatId, messageId, newText) {
      const stored = chatState(chatId).messages.get(messageId);
      if (!stored || stored.byBot) throw new Error(`userEdits: no user message ${messageId} in chat ${chatId}`);
      const { message } = stored;
      const { entities } = withDetectedEntities({ text: newText, entities: [] }, { botCommands: true });
      if (message.text !== undefined) {
        message.text = newText;
        if (entities.length > 0) message.entities = entities;
        else delete message.entities;
      } else {
        message.caption = newText;
        if (entities.length > 0) message.caption_entities = entities;
        else delete message.caption_entities;
      }
      message.edit_date = now();
      stored.raw = newText;
      stored.edits.push(newText);
      return newUpdate({ edited_message: message } as Omit<Update, 'update_id'>);
    },

    redeliver(update) {
      enqueue(update, true);
    },

    registerChat: (chat) => ensureChat(chat).chat,

    chatMessages(chatId) {
      const state = chats.get(chatId);
      if (!state) return [];
      return [...state.messages.values()].filter((stored) => stored.byBot).map((stored) => sentMessage(chatId, stored));
    },

    calls(method) {
      return method === undefined ? [...recorded] : recorded.filter((call) => call.method === method);
    },

    chatActions(chatId) {
      return [...(chats.get(chatId)?.actions ?? [])];
    },

    commands(scope, languageCode) {
      return structuredClone(commandSets.get(commandKey(scope, languageCode)) ?? []);
    },

    webhook() {
      return webhook && { url: webhook.url, ...(webhook.secretToken ? { secretToken: webhook.secretToken } : {}) };
    },

    webhookDeliveries() {
      return [...deliveries];
    },

    pendingUpdates() {
      return pending.length;
    },

    failNext(method, count, scripted) {
      const name = canonicalMethod(method) ?? method;
      const outcome: Extract<Outcome, { ok: false }> = scripted.errorCode === 429
        ? {
          ok: false, error_code: 429, description: scripted.description ?? `Too Many Requests: retry after ${scripted.retryAfter}`,
          parameters: { retry_after: scripted.retryAfter },
        }
        : failure(scripted.errorCode, scripted.description ?? STATUS_CODES[scripted.errorCode] ?? 'Internal Server Error');
      failures.set(name, [...(failures.get(name) ?? []), ...Array.from({ length: count }, () => ({ ...outcome }))]);
    },

    async waitFor(predicate, timeoutMs = 5000) {
      await waitUntil('telegram-server waitFor predicate', async () => predicate(), { timeoutMs, intervalMs: 10 });
    },

    close() {
      closed = true;
      webhook?.stop.abort();
      if (poll) finishPoll(poll, done([]));
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

// --- helpers -----------------------------------------------------------------------------------------------------

/** Telegram's file objects, with stable fake ids. */
function media(kind: NonNullable<UserMessageInput['kind']>, messageId: number): Partial<Message> {
  const file = (prefix: string, suffix: string) => ({ file_id: `${prefix}${messageId}${suffix}`, file_unique_id: `AQAD${messageId}${suffix}` });
  switch (kind) {
    case 'photo':
      return {
        photo: [
          { ...file('AgACAgIAAxkBAAI', 's'), width: 90, height: 67, file_size: 1_234 },
          { ...file('AgACAgIAAxkBAAI', 'm'), width: 320, height: 240, file_size: 15_678 },
          { ...file('AgACAgIAAxkBAAI', 'x'), width: 1280, height: 960, file_size: 123_456 },
        ],
      };
    case 'sticker':
      return { sticker: { ...file('CAACAgIAAxkBAAI', ''), type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '👍', file_size: 23_456 } };
    case 'voice':
      return { voice: { ...file('AwACAgIAAxkBAAI', ''), duration: 3, mime_type: 'audio/ogg', file_size: 12_345 } };
    case 'document':
      return { document: { ...file('BQACAgIAAxkBAAI', ''), file_name: 'notes.txt', mime_type: 'text/plain', file_size: 2_048 } };
  }
}

/** A POST over HTTPS that trusts `ca` (fetch cannot be given a CA without undici's dispatcher). */
function postTrusting(ca: string | Buffer, url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', headers, ca, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const responseHeaders = Object.entries(res.headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as [string, string]] : []));
        const status = res.statusCode ?? 502;
        const bodyless = [204, 205, 304].includes(status);
        resolve(new Response(bodyless ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
      });
      res.on('error', reject);
    });
    req.on('error', (error) => reject(Object.assign(new Error(error.message), { cause: error })));
    req.end(body);
  });
}

function networkErrorMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'Connection refused';
  if ((error as Error).name === 'TimeoutError') return 'Read timeout expired';
  return (error as Error).message;
}

function str(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === null ? undefined : String(value);
}

function int(params: Params, name: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? Math.trunc(number) : badRequest(`invalid ${name} specified`);
}

function bool(params: Params, name: string): boolean {
  const value = params[name];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** Objects arrive as JSON values in JSON bodies and as JSON strings in forms and query strings. */
function json(params: Params, name: string): unknown {
  const value = params[name];
  if (typeof value !== 'string') return value ?? undefined;
  const parsed = parseJson(value);
  return parsed === undefined ? badRequest(`can't parse ${name} JSON object`) : parsed;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Query string, then the body (JSON, urlencoded or multipart) on top; undefined for a body that is not JSON. */
async function readParams(req: IncomingMessage, url: URL, raw: Buffer): Promise<Params | undefined> {
  const params: Params = Object.fromEntries(url.searchParams);
  if (raw.length === 0) return params;
  const contentType = req.headers['content-type'] ?? '';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    const body = parseJson(raw.toString('utf8'));
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    return { ...params, ...(body as Params) };
  }
  if (type === 'application/x-www-form-urlencoded') {
    return { ...params, ...Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) };
  }
  if (type === 'multipart/form-data') {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    for (const [name, value] of form) {
      params[name] = typeof value === 'string' ? value : { file: value.name, size: value.size };
    }
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, outcome: Outcome): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(outcome.ok ? 200 : outcome.error_code, { 'content-type': 'application/json' }).end(JSON.stringify(outcome));
}
