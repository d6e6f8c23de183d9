/**
 * What the model activities send: the chat messages for a reply, and the request that folds turns into the
 * running summary. Pure functions, so the exact prompts are easy to test and to change in one place.
 */
import type { ContextTurn, InboundMessage } from '../workflows/messages';
import { charsPerToken } from '../workflows/token-estimate';
import type { ChatMessage, ChatRequest } from './ports';

export interface ReplyPromptInput {
  systemPrompt: string;
  /** The running summary of turns that left the window; empty when there is none yet. */
  summary: string;
  /** Recent turns, oldest first. */
  window: readonly ContextTurn[];
  /** The new (possibly coalesced) messages to answer, in arrival order. */
  messages: readonly InboundMessage[];
}

export interface SummarizeInput {
  previousSummary: string;
  /** Turns to fold into the summary, oldest first (whole turns in histories recorded before `contextTurns`). */
  turns: ContextTurn[];
  /** Upper bound for the new summary, in tokens. */
  maxTokens: number;
}


/**
 * System prompt, the summary (when there is one), the window as user/assistant pairs, then one user message per
 * new message: coalesced messages are answered together, like a person reading several quick messages. The summary
 * is the model's own earlier writing about what users said, so it speaks as the assistant, never with the system's
 * authority (a user could otherwise plant instructions in it).
 */
export function buildReplyMessages(input: ReplyPromptInput): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: input.systemPrompt }];
  if (input.summary) {
    messages.push({ role: 'assistant', content: `(My summary of our conversation so far.)\n${input.summary}` });
  }
  for (const turn of input.window) {
    for (const m of turn.messages) messages.push({ role: 'user', content: m.text });
    messages.push({ role: 'assistant', content: turn.reply.text });
  }
  for (const m of input.messages) messages.push({ role: 'user', content: m.text });
  return messages;
}

/** Asks the model to fold `turns` into `previousSummary`, within `maxTokens`. */
export function buildSummaryRequest(input: SummarizeInput): ChatRequest {
  const words = Math.max(10, Math.floor(input.maxTokens * 0.7));
  const transcript = input.turns
    .map((turn) => [...turn.messages.map((m) => `User: ${m.text}`), `Assistant: ${turn.reply.text}`].join('\n'))
    .join('\n');
  return {
    maxTokens: input.maxTokens,
    messages: [
      {
        role: 'system',
        content:
          'You maintain the running summary of a conversation between a user and an assistant. ' +
          'Fold the new turns into the previous summary. Keep facts, names, preferences, decisions and open ' +
          'questions; drop greetings and filler. Write in the third person. ' +
          `Answer with the updated summary only, at most ${words} words.`,
      },
      {
        role: 'user',
        content: `Previous summary:\n${input.previousSummary || '(none)'}\n\nNew turns:\n${transcript}`,
      },
    ],
  };
}

/**
 * Keeps a model-written summary within its budget even when the model ignores the instruction: cuts at a word
 * boundary and marks the cut. The result is at most `maxTokens * charsPerToken` characters.
 */
export function clampSummary(text: string, maxTokens: number): string {
  const limit = maxTokens * charsPerToken;
  const trimmed = text.trim();
  if (trimmed.length <= limit) return trimmed;
  const head = trimmed.slice(0, limit - 1);
  const cut = head.lastIndexOf(' ');
  return `${cut > limit / 2 ? head.slice(0, cut) : head}…`;
}
