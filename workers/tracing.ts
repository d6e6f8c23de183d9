/**
 * The worker's side of tracing: a span per activity run, in the trace its workflow passed along in the activity's
 * headers, and a sink for the spans workflows make (the interceptors bundled while tracing is on). With tracing off
 * there are neither, and OpenTelemetry's Temporal interceptors are not loaded.
 */
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Tracing } from '../lib/tracing';

export interface WorkerTracing {
  /** For every worker's activities (the Telegram reply worker's too). */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** For every worker that runs workflows. */
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

/**
 * For a worker without tracing, and for replaying: workflow spans are dropped (a sink the workflows call but the
 * worker lacks would log an error per span).
 */
export const noWorkflowSpans: InjectedSinks<OpenTelemetrySinks> = { exporter: { export: { fn: () => undefined } } };

/**
 * While tracing is on, workflow spans go out with the worker's own. The exporter copies the workflow's info onto
 * every span: only its plain fields here, not its search attributes, memo and internals (nested objects that
 * tracing backends show as blobs, on every span).
 */
export async function workerTracing(tracing: Tracing): Promise<WorkerTracing> {
  if (!tracing.workflowSpans) return { activityInterceptors: [], sinks: noWorkflowSpans };
  const { tracer } = tracing;
  const { processor, resource } = tracing.workflowSpans;
  const otel = await import('@temporalio/interceptors-opentelemetry');
  const { export: exported } = otel.makeWorkflowExporter(processor, resource);
  return {
    activityInterceptors: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: {
      exporter: {
        export: {
          fn: ({ workflowId, runId, workflowType, taskQueue, namespace, attempt }, spans) =>
            exported.fn({ workflowId, runId, workflowType, taskQueue, namespace, attempt } as WorkflowInfo, spans),
        },
      },
    },
  };
}
