/**
 * The built-in dev provider (`type: echo`): answers without any model, so `npm start` works with nothing
 * configured. It says it is the dev provider, so nobody mistakes its answers for a real model's.
 */
import { setImmediate as nextTick } from 'node:timers/promises';
import type { ModelProvider } from '../lib/config';
import type { ChatModel, ChatRequest, ChatResult } from './ports';
import { charsPerToken } from '../workflows/token-estimate';
import type { SummarizeInput } from './model-prompts';
import { estimateUsage } from './usage-estimate';

/** Marks every answer of the dev provider. */
const devProviderPrefix = '[dev provider]';
const intro = `${devProviderPrefix} You said: `;

/** A chat model that summarizes without a model (extractively) instead of answering a summary prompt. */
export interface LocalSummarizer {
  summarizeLocally(input: SummarizeInput): ChatResult;
}

/** True for models that summarize locally (the dev provider), which the summarize activity then asks directly. */
export function isLocalSummarizer(model: ChatModel): model is ChatModel & LocalSummarizer {
  return typeof (model as Partial<LocalSummarizer>).summarizeLocally === 'function';
}

/**
 * Answers `[dev provider] You said: <the user's latest message(s)>`, streamed word by word.
 * @example await createEchoChatModel(devProvider).stream({ messages: [{ role: 'user', content: 'hi' }] }, print, signal)
 *          // → '[dev provider] You said: hi'
 */
export function createEchoChatModel(provider: ModelProvider): ChatModel & LocalSummarizer {
  return {
    provider: provider.name,
    model: provider.model,
    async stream(request: ChatRequest, onDelta: (text: string) => void, signal: AbortSignal): Promise<ChatResult> {
      const text = intro + latestUserTexts(request).join('\n');
      for (const piece of text.match(/\s*\S+\s*/g) ?? []) {
        signal.throwIfAborted();
        onDelta(piece);
        // Yield between words, as a real stream would, so heartbeats and cancellation get a chance to run.
        await nextTick();
      }
      return { text, usage: estimateUsage(request.messages, text) };
    },
    summarizeLocally(input: SummarizeInput): ChatResult {
      const summary = extractiveSummary(input);
      return { text: summary, usage: estimateUsage([], summary) };
    },
  };
}

/** The trailing run of user messages: what the latest turn asks (several when messages were coalesced). */
function latestUserTexts(request: ChatRequest): string[] {
  const texts: string[] = [];
  for (let i = request.messages.length - 1; i >= 0 && request.messages[i]!.role === 'user'; i--) {
    texts.unshift(request.messages[i]!.content);
  }
  return texts;
}

const summaryPrefix = 'Earlier: ';
const maxLineItemChars = 160;

/**
 * `Earlier: <previous summary> / user: … / assistant: …`, cut from the front to about `maxTokens` tokens so the
 * newest content survives. Meaningful enough to test context folding end to end without a model.
 */
function extractiveSummary(input: SummarizeInput): string {
  const previous = input.previousSummary.startsWith(summaryPrefix)
    ? input.previousSummary.slice(summaryPrefix.length)
    : input.previousSummary;
  const lines = input.turns.map(
    (turn) =>
      `user: ${clip(turn.messages.map((m) => m.text).join(' / '))} / assistant: ${clip(stripPrefix(turn.reply.text))}`,
  );
  const body = [previous, ...lines].filter(Boolean).join('\n');
  const budget = Math.max(1, input.maxTokens * charsPerToken - summaryPrefix.length);
  if (body.length <= budget) return summaryPrefix + body;
  const tail = body.slice(body.length - (budget - 1));
  const boundary = tail.search(/\s/);
  return `${summaryPrefix}…${boundary >= 0 && boundary < tail.length / 2 ? tail.slice(boundary + 1) : tail}`;
}

function stripPrefix(reply: string): string {
  return reply.startsWith(intro) ? `(echo) ${reply.slice(intro.length)}` : reply;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= maxLineItemChars ? flat : `${flat.slice(0, maxLineItemChars - 1)}…`;
}
