/**
 * The worker's side of tracing: a span per activity run, in the trace its workflow passed along in the activity's
 * headers, and a sink for the spans workflows make (the interceptors bundled while tracing is on).
 */
import type { Tracer } from '@opentelemetry/api';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Tracing } from '../lib/tracing';

/** With tracing off, `tracer` is the no-op one: the spans cost nothing and go nowhere. */
export function activityInterceptors(tracer: Tracer): ActivityInterceptorsFactory[] {
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}

/**
 * For a worker without tracing, and for replaying: workflow spans are dropped (a sink the workflows call but the
 * worker lacks would log an error per span).
 */
export const noWorkflowSpans: InjectedSinks<OpenTelemetrySinks> = { exporter: { export: { fn: () => undefined } } };

/**
 * Workflow spans go out with the worker's own while tracing is on. The exporter copies the workflow's info onto every
 * span: only its plain fields here, not its search attributes, memo and internals (nested objects that tracing
 * backends show as blobs, on every span).
 */
export function workflowSpanSinks(tracing: Tracing): InjectedSinks<OpenTelemetrySinks> {
  if (!tracing.workflowSpans) return noWorkflowSpans;
  const { export: exported } = makeWorkflowExporter(tracing.workflowSpans.processor, tracing.workflowSpans.resource);
  return {
    exporter: {
      export: {
        fn: ({ workflowId, runId, workflowType, taskQueue, namespace, attempt }, spans) =>
          exported.fn({ workflowId, runId, workflowType, taskQueue, namespace, attempt } as WorkflowInfo, spans),
      },
    },
  };
}
