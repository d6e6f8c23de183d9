/**
 * Whether given worker processes poll a task queue yet, asked of the Temporal server: a started process is not a
 * ready worker (it still loads the workflow bundle and connects), and messages sent before it polls wait for it.
 * Workers are told apart by the SDK's default identity, `<pid>@<hostname>`.
 */
import { hostname } from 'node:os';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { AppConfig } from '../lib/config';
import { temporalConnectionOptions } from '../lib/temporal';
import { waitUntil, type WaitOptions } from './wait-until';

/** Waits until every worker in `pids()` polls the task queue, over one connection for the whole wait. */
export async function waitForWorkersPolling(config: AppConfig, pids: () => number[], wait: Omit<WaitOptions, 'failFast'>): Promise<void> {
  // Lazy: a server that does not answer yet fails a probe (retried), not the wait.
  const connection = Connection.lazy(temporalConnectionOptions(config));
  try {
    const polling = async () => {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: config.temporal.namespace,
        taskQueue: { name: config.temporal.taskQueue },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      const identities = new Set(pollers?.map((p) => p.identity));
      return pids().every((pid) => identities.has(`${pid}@${hostname()}`));
    };
    // A worker that exits meanwhile (a busy server that does not answer yet) is restarted by its supervisor: wait for it.
    await waitUntil(`${pids().length} worker(s) polling ${config.temporal.taskQueue} (see the [worker-…] lines above)`, polling, wait);
  } finally {
    await connection.close();
  }
}
