/**
 * Simulated Telegram users: each writes to the bot from its own private chat on the drill's Telegram server, one
 * message after another, and waits for the reply to the previous one (up to the reply timeout) before the next.
 * They never resend: Telegram (here the local server) redelivers every update the bot has not confirmed.
 *
 * What they saw comes from the chats alone, never from the engine: a bot message is a reply once it is complete
 * (its text no longer ends in the preview marker " …"), identified by chat and message_id, and it answers the
 * messages its text names (see markers.ts). A complete message that names none did not come from the model (an
 * apology): it answers what the user was still waiting for; the edge's "slow down" refusal answers nothing. Previews still unfinished at the end are recorded too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TelegramServer } from '../simulators/telegram-server';
import type { ObservedReply, SentMessage } from './drill-log';
import type { LoadRecord } from './load';
import { slowDownText } from '../../channels/telegram/commands';
import { marker, markersIn } from './markers';
import { isLargeMessage, largeMessageChars, padWithCjk, plainText } from './message-text';

export interface TelegramLoadOptions {
  telegram: TelegramServer;
  runId: string;
  users: number;
  messages: number;
  thinkMs: number;
  messageChars: number;
  /** Share of messages padded with CJK text to near Telegram's 4096-character limit (0..1). */
  largeShare: number;
  replyTimeoutMs: number;
  /** Aborting it ends the users' loops at once (Ctrl-C). */
  signal: AbortSignal;
}

export interface TelegramLoad {
  /** Settles when every user has sent its last message and waited for its reply. */
  done: Promise<void>;
  /** Sent messages without a complete reply yet. */
  pending(): number;
  /** Stops watching after a last look at every chat, which also records previews left unfinished. */
  stop(): void;
}

/** What the engine appends to a reply while it streams (channels/telegram/reply-activities.ts), as the user sees it. */
const previewMarker = ' …';
/** How often the users look at their chats: the resolution of Telegram latencies. */
const watchEveryMs = 100;
/** The users' private chat ids (the test server's default user is 1001). */
const firstChatId = 7_000_001;

export function startTelegramUsers(options: TelegramLoadOptions, record: LoadRecord): TelegramLoad {
  const { telegram, signal } = options;
  const chats = Array.from({ length: options.users }, (_, n) => firstChatId + n);
  const sent = new Map<number, SentMessage[]>(chats.map((chatId) => [chatId, []]));
  const answered = new Set<string>();
  /** replyId → the text last recorded for it (a message is recorded again only when its text changes). */
  const recorded = new Map<string, string>();

  /** One look at every chat; at the end (`last`) unfinished previews are recorded as well. */
  const look = (last: boolean) => {
    for (const chatId of chats) {
      for (const message of telegram.chatMessages(chatId)) {
        const complete = !message.text.endsWith(previewMarker);
        const replyId = `${chatId}:${message.message_id}`;
        if (message.deleted || (!complete && !last) || recorded.get(replyId) === message.text) continue;
        // The edge refused a message ("slow down"): it is not an answer, so the message stays unanswered (lost).
        if (message.text === slowDownText) continue;
        recorded.set(replyId, message.text);
        const named = markersIn(message.text);
        const waiting = sent.get(chatId)!.filter((m) => !answered.has(m.messageId)).map((m) => m.messageId);
        const inReplyTo = named.length > 0 || !complete ? named : waiting;
        if (complete) inReplyTo.forEach((id) => answered.add(id));
        const reply: ObservedReply = {
          channel: 'telegram', conversationId: `telegram:${chatId}`, replyId, inReplyTo, text: message.text,
          source: 'telegram', position: message.message_id, at: Date.now(),
          ...(complete ? { kind: named.length > 0 ? 'answer' : 'apology' } : { partial: true }),
        };
        record.replies.push(reply);
      }
    }
  };
  const watching = setInterval(() => look(false), watchEveryMs);

  const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);
  // Like the API users: start and pause at random within ±50 % of the think time.
  const think = () => pause(options.thinkMs * (0.5 + Math.random()));
  const user = async (n: number) => {
    const chatId = chats[n]!;
    await think();
    for (let index = 0; index < options.messages && !signal.aborted; index++) {
      const messageId = `${options.runId}-t${n}-m${index}`;
      const large = isLargeMessage(n * options.messages + index, options.largeShare);
      const message: SentMessage = {
        channel: 'telegram', conversationId: `telegram:${chatId}`, messageId, index, sentAt: Date.now(), ...(large ? { large } : {}),
      };
      const plain = plainText(`${marker(messageId)} message ${index}: `, options.messageChars);
      record.messages.push(message);
      sent.get(chatId)!.push(message);
      telegram.userSends({
        chat: { id: chatId },
        from: { id: chatId, username: `chaos_user_${n}`, first_name: `Chaos ${n}` },
        text: large ? padWithCjk(plain, largeMessageChars.telegram) : plain,
      });
      const deadline = message.sentAt + options.replyTimeoutMs;
      while (!answered.has(messageId) && Date.now() < deadline && !signal.aborted) await pause(watchEveryMs);
      await think();
    }
  };

  const done = Promise.all(Array.from({ length: options.users }, (_, n) => user(n))).then(() => undefined);
  return {
    done,
    pending: () => [...sent.values()].flat().filter((m) => !answered.has(m.messageId)).length,
    stop() {
      clearInterval(watching);
      look(true);
    },
  };
}
