/**
 * A deterministic, dependency-free token estimate (about four characters per token, plus per-message
 * overhead). Good enough to keep the context inside a budget; exact counts come back from the provider.
 */
import type { Turn } from './messages';

const perMessageOverhead = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + perMessageOverhead;
}

export function estimateTurnTokens(turn: Turn): number {
  return turn.messages.reduce((sum, m) => sum + estimateTokens(m.text), estimateTokens(turn.reply.text));
}
