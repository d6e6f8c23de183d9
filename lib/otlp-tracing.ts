/**
 * OpenTelemetry's SDK, started by lib/tracing.ts only while tracing is on: spans are batched and sent by OTLP/HTTP
 * (JSON) to the collector. Loaded on demand, so a process with tracing off does not hold the SDK and its exporter.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Logger } from './logger';
import { tracerName } from './spans';
import type { Tracing } from './tracing';

export function startOtlpTracing(serviceName: string, endpoint: string, headers: Record<string, string>, logger: Logger): Tracing {
  const resource = new Resource({ [ATTR_SERVICE_NAME]: serviceName });
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
