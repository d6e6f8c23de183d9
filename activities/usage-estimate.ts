/**
 * Token usage when the provider reports none (the echo provider, endpoints that ignore `include_usage`).
 */
import type { TokenUsage } from '../workflows/messages';
import { estimateTokens } from '../workflows/token-estimate';
import type { ChatMessage } from './ports';

/** Estimates usage with the same heuristic the workflow uses for its context budget. */
export function estimateUsage(messages: readonly ChatMessage[], answer: string): TokenUsage {
  const promptTokens = messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);
  const completionTokens = answer ? estimateTokens(answer) : 0;
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
