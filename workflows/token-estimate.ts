/**
 * A deterministic, dependency-free token estimate (about four characters per token, plus per-message
 * overhead). Good enough to keep the context inside a budget; exact counts come back from the provider.
 */
import type { TextRef, Turn } from './messages';

/** About four characters per token (English); the activities use the same figure to clamp summaries. */
export const charsPerToken = 4;
const perMessageOverhead = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / charsPerToken) + perMessageOverhead;
}

/** A message or reply, carried inline or by reference (then its length is the whole text's, not the preview's). */
export function estimateTextTokens(item: { text: string; textRef?: TextRef }): number {
  return item.textRef ? Math.ceil(item.textRef.chars / charsPerToken) + perMessageOverhead : estimateTokens(item.text);
}

export function estimateTurnTokens(turn: Turn): number {
  return turn.messages.reduce((sum, m) => sum + estimateTextTokens(m), estimateTextTokens(turn.reply));
}
