/**
 * ChatModel adapter for any OpenAI-compatible endpoint, through the `openai` package.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ModelProvider, ProviderConfig } from '../lib/config';
import type { ChatModel, ChatRequest, ChatResult } from './ports';
import { MalformedStreamError } from './model-errors';
import { estimateUsage } from './usage-estimate';

/**
 * Streams chat completions from one configured provider.
 * `provider.timeout` bounds the whole request, body included (the SDK's own timeout stops at the headers).
 * @example const model = createOpenAiChatModel({ name: 'main', type: 'openai-compatible', endpoint, model: 'gpt-4o-mini', ... });
 */
export function createOpenAiChatModel(provider: ModelProvider): ChatModel {
  if (!provider.endpoint) throw new Error(`model provider ${provider.name}: endpoint is required`);
  // Our fallback chain and Temporal's retry policy decide about retries; an SDK retry would hide failures from both.
  const client = openAiClient(provider, { maxRetries: 0, timeoutMs: provider.timeout });

  return {
    provider: provider.name,
    model: provider.model,
    async stream(request: ChatRequest, onDelta: (text: string) => void, signal: AbortSignal): Promise<ChatResult> {
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), provider.timeout);
      const combined = AbortSignal.any([signal, deadline.signal]);
      try {
        const stream = await client.chat.completions.create(
          {
            model: provider.model,
            messages: request.messages,
            stream: true,
            stream_options: { include_usage: true },
            max_tokens: Math.min(provider.maxTokens, request.maxTokens ?? Infinity),
            temperature: provider.temperature,
          },
          { signal: combined },
        );
        let text = '';
        let finished = false;
        let usage: ChatResult['usage'] | undefined;
        for await (const chunk of stream) {
          if (chunk.usage) {
            const u = chunk.usage;
            usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens };
          }
          // Some compatible servers omit `choices` in the usage chunk.
          const choice = (chunk.choices ?? []).find((c) => c.index === 0);
          const delta = choice?.delta?.content;
          if (delta) {
            text += delta;
            onDelta(delta);
          }
          if (choice?.finish_reason) finished = true;
        }
        // The SDK ends the iteration quietly when the signal aborts mid-body: that is a failure, not an answer.
        if (combined.aborted) throw new Error('aborted mid-stream');
        if (!finished) throw new MalformedStreamError('the stream ended without a finish_reason');
        return { text, usage: usage ?? estimateUsage(request.messages, text) };
      } catch (error) {
        throw translateError(error, signal, deadline.signal, provider.timeout);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Maps what the SDK and undici throw onto the openai error classes the classifier understands. */
function translateError(error: unknown, caller: AbortSignal, deadline: AbortSignal, timeoutMs: number): unknown {
  // The caller's own abort (activity cancelled) must surface as its reason, not as a provider failure.
  if (caller.aborted) return caller.reason ?? error;
  if (deadline.aborted) return new APIConnectionTimeoutError({ message: `no complete answer within ${timeoutMs} ms` });
  if (error instanceof APIError || error instanceof MalformedStreamError) return error;
  if (error instanceof SyntaxError) return new MalformedStreamError('the stream carried an unparsable chunk', { cause: error });
  // undici: `TypeError: terminated` when the socket closes mid-body.
  if (error instanceof TypeError) return new APIConnectionError({ message: `connection lost: ${error.message}`, cause: error });
  return error;
}

/** The `openai` package's client for a provider's endpoint (chat streams, and the model list asked at start-up). */
export function openAiClient(provider: ProviderConfig, options: { maxRetries: number; timeoutMs: number }): OpenAI {
  return new OpenAI({
    baseURL: provider.endpoint,
    // Self-hosted endpoints often need no key, but the SDK insists on one.
    apiKey: provider.apiKey ?? 'unused',
    maxRetries: options.maxRetries,
    timeout: options.timeoutMs,
    // The SDK would print unparsable chunks (model output) to stderr; failures are logged by their callers.
    logLevel: 'off',
  });
}
