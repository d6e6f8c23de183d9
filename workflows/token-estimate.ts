/**
 * A deterministic, dependency-free token estimate (about four characters per token, plus per-message
 * overhead). Good enough to keep the context inside a budget; exact counts come back from the provider.
 */
import type { TextRef, Turn } from './messages';

/** About four characters per token (English); the activities use the same figure to clamp summaries. */
export const charsPerToken = 4;
const perMessageOverhead = 4;

export function estimateTokens(text: string): number {
  return tokensForChars(text.length);
}

/** A message or reply, carried inline or by reference (then its length is the whole text's, not the preview's). */
export function estimateTextTokens(item: { text: string; textRef?: TextRef }): number {
  return tokensForChars(item.textRef?.chars ?? item.text.length);
}

function tokensForChars(chars: number): number {
  return Math.ceil(chars / charsPerToken) + perMessageOverhead;
}

export function estimateTurnTokens(turn: Turn): number {
  return turn.messages.reduce((sum, m) => sum + estimateTextTokens(m), estimateTextTokens(turn.reply));
}
