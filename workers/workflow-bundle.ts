/** What the workflow bundle holds and how it is built: for the worker, the launcher (once for all workers) and tests. */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type Logger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * OpenTelemetry's workflow interceptors, as the engine uses them (see that module). Bundled only while tracing is on:
 * with it off they made spans nobody keeps, for ~15 % of the throughput at 50 busy conversations and ~100 MB of
 * worker memory (bench, one sitting). A run replays the same with or without them, reply ids included, so a worker
 * may restart with tracing switched either way.
 */
export const tracingInterceptorModules = [fileURLToPath(new URL('../workflows/tracing-interceptors.ts', import.meta.url))];

/** The bundler's input: the workflows, and the tracing interceptors when `tracing`. */
export function workflowCode(options: { tracing: boolean }) {
  return { workflowsPath, ...(options.tracing ? { workflowInterceptorModules: tracingInterceptorModules } : {}) };
}

/** Bundles the workflow code (takes seconds). */
export function bundleWorkflows(logger: Logger, options: { tracing: boolean }): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ ...workflowCode(options), logger });
}
