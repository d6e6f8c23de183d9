/**
 * `createActivities(deps)`: every activity the conversation workflow calls, built over narrow interfaces.
 * The workflow proxies `Activities` (types only); workers pass real adapters, tests pass real ones too.
 */
import type { Tracer } from '@opentelemetry/api';
import type { ModelProvider } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { createChatModel } from './chat-models';
import { createContextActivities } from './context';
import { createDeliveryActivities } from './delivery';
import { createModelActivities, type UsageMeter } from './model';
import type { ConversationCache, LargeTexts, TranscriptStore } from './ports';

export interface ActivityDeps {
  /** Model providers in fallback order. */
  providers: readonly ModelProvider[];
  cache: ConversationCache;
  transcripts: TranscriptStore;
  texts: LargeTexts;
  /** Counts model tokens against each conversation owner's daily budget. */
  usage?: UsageMeter;
  /** The worker's Prometheus metrics. */
  metrics?: Metrics;
  /** Spans of the model calls (lib/tracing.ts). */
  tracer?: Tracer;
  logger: Logger;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createModelActivities({
      models: deps.providers.map((provider) => ({ model: createChatModel(provider), maxConcurrency: provider.maxConcurrency })),
      cache: deps.cache,
      texts: deps.texts,
      ...(deps.usage ? { usage: deps.usage } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.tracer ? { tracer: deps.tracer } : {}),
      logger: deps.logger,
    }),
    ...createContextActivities(deps),
    ...createDeliveryActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
