/**
 * Builds the ChatModel adapter for a configured provider.
 */
import type { ModelProvider } from '../lib/config';
import type { ChatModel } from './ports';
import { createEchoChatModel } from './echo-chat-model';
import { createOpenAiChatModel } from './openai-chat-model';

/**
 * @example const models = config.model.providers.map(createChatModel); // fallback order = config order
 */
export function createChatModel(provider: ModelProvider): ChatModel {
  switch (provider.type) {
    case 'openai-compatible':
      return createOpenAiChatModel(provider);
    case 'echo':
      return createEchoChatModel(provider);
  }
}
