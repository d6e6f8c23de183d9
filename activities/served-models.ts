/**
 * Providers configured without a `model` (the seed's model.yaml names none) answer with the one model their
 * endpoint serves, asked once at start-up (`GET /models`). Never a silent default: a model name the endpoint does
 * not know would turn every reply into the apology.
 */
import type { ModelProvider, ProviderConfig } from '../lib/config';
import { ConfigError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { openAiClient } from './openai-chat-model';

/** Asking an endpoint for its models gives up after this long (or the provider's own timeout, if shorter). */
const askTimeoutMs = 15_000;

/**
 * The providers with their models: as configured, or the one model each endpoint serves.
 * Throws ConfigError naming every provider whose model it cannot tell (none or several served, endpoint unreachable).
 * @example const providers = await withServedModels(config.model.providers, logger);
 */
export async function withServedModels(providers: readonly ProviderConfig[], logger: Logger): Promise<ModelProvider[]> {
  const problems: string[] = [];
  const resolved = await Promise.all(
    providers.map(async (provider) => {
      if (provider.model) return { ...provider, model: provider.model };
      const model = await servedModel(provider).catch((error: unknown) => {
        problems.push(`model provider ${provider.name}: no model is configured (set \`model\` in the model file): ${(error as Error).message}`);
        return undefined;
      });
      if (model) logger.info({ provider: provider.name, model }, 'model provider: using the one model its endpoint serves');
      return model ? { ...provider, model } : undefined;
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved.filter((provider) => provider !== undefined);
}

async function servedModel(provider: ProviderConfig): Promise<string> {
  const client = openAiClient(provider, { maxRetries: 2, timeoutMs: Math.min(askTimeoutMs, provider.timeout) });
  let ids: string[];
  try {
    ids = (await client.models.list()).data.map((model) => model.id);
  } catch (error) {
    throw new Error(`asking ${provider.endpoint}/models which one to use failed (${(error as Error).message})`, { cause: error });
  }
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0) throw new Error(`${provider.endpoint}/models lists no model`);
  const shown = ids.slice(0, 10).join(', ') + (ids.length > 10 ? `, … (${ids.length} in all)` : '');
  throw new Error(`${provider.endpoint}/models serves several (${shown}); name one`);
}
