/**
 * Our own spans, beside the ones the Temporal interceptors make. Their names and attributes hold routes, kinds,
 * providers, models and counts: never ids a user chose, never message text, and never an error's message (a
 * provider may echo the prompt in it).
 */
import { SpanStatusCode, trace, type Attributes, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';

/** The instrumentation scope of every span this project makes itself. */
export const tracerName = 'ai-assistant-core';

/** For code given no tracer (tests, tools): the provider this process registered, else OpenTelemetry's no-op one. */
export function processTracer(): Tracer {
  return trace.getTracer(tracerName);
}

/**
 * Runs `work` inside a new active span (what it logs carries the span's ids) and ends the span when it settles; a
 * throw marks the span failed, with the error's class as `error.type`.
 * @example await inSpan(tracer, 'telegram update', {}, () => handle(update));
 */
export function inSpan<T>(tracer: Tracer, name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failed(span, error instanceof Error ? error.name : typeof error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed, saying what kind of failure in `error.type` (OpenTelemetry's convention). */
export function failed(span: Span, errorType: string): void {
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** The ids of the span active here (a request's, an activity's, a model call's), if any. */
export function activeSpanContext(): SpanContext | undefined {
  const span = trace.getActiveSpan()?.spanContext();
  return span && trace.isSpanContextValid(span) ? span : undefined;
}
