/**
 * OpenTelemetry tracing, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans are batched and sent by OTLP/HTTP
 * (JSON) to that collector (lib/otlp-tracing.ts). Off, `tracer` is OpenTelemetry's no-op one and no SDK is loaded.
 *
 * Each composition root passes its `tracer` to what makes spans (the Temporal interceptors, the request and model
 * spans) rather than relying on the global provider: an API and a worker in one process (the in-process test
 * engine) then still name their spans by their own service.
 * @example
 * const tracing = await startTracing(config, 'api', logger);
 * // … new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer }) …
 * await tracing.shutdown(); // flushes the spans not yet sent
 */
import type { Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { serviceNameOf, type AppConfig } from './config';
import type { Logger } from './logger';
import { processTracer } from './spans';

export interface Tracing {
  tracer: Tracer;
  /** Set while tracing is on: where the worker sends the spans its workflows make (makeWorkflowExporter). */
  workflowSpans?: { processor: SpanProcessor; resource: Resource };
  /** Sends the spans still buffered and stops; a no-op when tracing is off. */
  shutdown(): Promise<void>;
}

export async function startTracing(config: AppConfig, role: 'api' | 'worker', logger: Logger): Promise<Tracing> {
  const { endpoint, headers } = config.tracing;
  if (!endpoint) return { tracer: processTracer(), shutdown: async () => undefined };
  // The SDK is loaded only now: with tracing off, a process does not hold it (~2 MB of heap; README: Performance).
  const { startOtlpTracing } = await import('./otlp-tracing');
  return startOtlpTracing(serviceNameOf(config, role), endpoint, headers, logger);
}
