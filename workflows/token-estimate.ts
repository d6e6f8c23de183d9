/**
 * A deterministic, dependency-free token estimate (about four characters per token, plus per-message
 * overhead). Good enough to keep the context inside a budget; exact counts come back from the provider.
 */
import type { Turn } from './messages';

/** About four characters per token (English); the activities use the same figure to clamp summaries. */
export const charsPerToken = 4;
const perMessageOverhead = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / charsPerToken) + perMessageOverhead;
}

export function estimateTurnTokens(turn: Turn): number {
  return turn.messages.reduce((sum, m) => sum + estimateTokens(m.text), estimateTokens(turn.reply.text));
}
