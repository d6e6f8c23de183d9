/** What the workflow bundle holds and how it is built: for the worker, the launcher (once for all workers) and tests. */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type Logger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const workflowCode = {
  workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
  /**
   * OpenTelemetry's workflow interceptors, as the engine uses them (see that module). In every bundle, tracing on or
   * off, so that one bundle serves every configuration: without a tracer in the worker their spans go to a sink that
   * drops them (workers/tracing.ts).
   */
  workflowInterceptorModules: [fileURLToPath(new URL('../workflows/tracing-interceptors.ts', import.meta.url))],
};

/** Bundles the workflow code with its interceptors (takes seconds). */
export function bundleWorkflows(logger: Logger): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ ...workflowCode, logger });
}
