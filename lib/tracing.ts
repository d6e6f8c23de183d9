/**
 * OpenTelemetry tracing, on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans are batched and sent by OTLP/HTTP
 * (JSON) to that collector. Off, `tracer` is OpenTelemetry's no-op one and no SDK starts.
 *
 * Each composition root passes its `tracer` to what makes spans (the Temporal interceptors, the request and model
 * spans) rather than relying on the global provider: an API and a worker in one process (the in-process test
 * engine) then still name their spans by their own service.
 * @example
 * const tracing = startTracing(config, 'api', logger);
 * // … new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer }) …
 * await tracing.shutdown(); // flushes the spans not yet sent
 */
import { diag, DiagLogLevel, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { serviceNameOf, type AppConfig } from './config';
import type { Logger } from './logger';
import { processTracer, tracerName } from './spans';

export interface Tracing {
  tracer: Tracer;
  /** Set while tracing is on: where the worker sends the spans its workflows make (makeWorkflowExporter). */
  workflowSpans?: { processor: SpanProcessor; resource: Resource };
  /** Sends the spans still buffered and stops; a no-op when tracing is off. */
  shutdown(): Promise<void>;
}

export function startTracing(config: AppConfig, role: 'api' | 'worker', logger: Logger): Tracing {
  const { endpoint, headers } = config.tracing;
  if (!endpoint) return { tracer: processTracer(), shutdown: async () => undefined };

  const resource = new Resource({ [ATTR_SERVICE_NAME]: serviceNameOf(config, role) });
  const exporter = new OTLPTraceExporter({ url: new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).href, headers });
  const processor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // For the process-wide parts: the async context that carries the active span, and the W3C propagator the
  // Temporal interceptors put it into headers with. A second provider in the same process keeps the first's.
  provider.register();
  // Export failures (collector down, refused credentials) would otherwise go unnoticed: OpenTelemetry reports them
  // to its diagnostic logger, which is silent by default.
  diag.setLogger(
    { error: (message) => logger.warn(`tracing: ${message}`), warn: (message) => logger.warn(`tracing: ${message}`), info: () => {}, debug: () => {}, verbose: () => {} },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  logger.info({ endpoint }, 'tracing: spans go to the OTLP collector');
  return {
    tracer: provider.getTracer(tracerName),
    workflowSpans: { processor, resource },
    shutdown: () => provider.shutdown(),
  };
}
