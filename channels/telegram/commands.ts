/**
 * The bot's commands: what they say, and their registration with Telegram. `setMyCommands` is called only when
 * the registered list differs (calling it on every restart earns long 429 lock-outs).
 */
import type { Api } from 'grammy';
import type { BotCommand } from 'grammy/types';
import type { ConversationSnapshot } from '../../workflows/messages';

export const botCommands: readonly BotCommand[] = [
  { command: 'start', description: 'What this bot does' },
  { command: 'help', description: 'What this bot does' },
  { command: 'reset', description: 'Start a fresh conversation (forget the context)' },
  { command: 'status', description: 'What the conversation knows right now' },
];

export function helpText(prefix: string): string {
  return [
    "Hi! I'm an AI assistant. Write to me and I'll answer; I remember our conversation.",
    `${prefix}reset starts fresh (I forget the context), ${prefix}status shows what I know, ${prefix}help shows this.`,
    'I read text only for now (captions count).',
  ].join('\n');
}

export const textOnlyText = 'I can only read text for now. Please write your message (a caption on a photo works too).';
export const resetText = 'Fresh start: I have forgotten the context of our conversation (its history stays archived).';
export const statusUnavailableText = "I can't look that up right now; please try again in a moment.";
export const slowDownText =
  "Slow down a little, please: I still have many of your messages to answer. I did not take this one; send it again in a moment.";
export function tooFastText(retryAfterSeconds: number): string {
  return `You're writing faster than I may take messages. I did not take this one; send it again in ${retryAfterSeconds} s.`;
}
export const restingText = 'Nothing in progress: your next message starts (or resumes) our conversation.';

export function unknownCommandText(prefix: string, name: string): string {
  return `I don't know ${prefix}${name}. ${prefix}help lists what I can do.`;
}

export function statusText(snapshot: ConversationSnapshot): string {
  const lines = [
    `Turns: ${snapshot.turnCount} · waiting messages: ${snapshot.pendingCount} · now: ${snapshot.status}`,
    `Context: ${snapshot.recentTurns.length} recent turns, summary of ${snapshot.summary.length} characters`,
  ];
  if (snapshot.lastModel) lines.push(`Model: ${snapshot.lastModel}`);
  return lines.join('\n');
}

/** Registers `botCommands` unless Telegram already has exactly them. True when it called setMyCommands. */
export async function syncCommands(api: Api): Promise<boolean> {
  const registered = await api.getMyCommands();
  const same =
    registered.length === botCommands.length &&
    registered.every((c, i) => c.command === botCommands[i]!.command && c.description === botCommands[i]!.description);
  if (same) return false;
  await api.setMyCommands([...botCommands]);
  return true;
}
