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

export async function workersPolling(config: AppConfig, pids: readonly number[]): Promise<boolean> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: config.temporal.taskQueue },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const polling = new Set(pollers?.map((p) => p.identity));
    return pids.every((pid) => polling.has(`${pid}@${hostname()}`));
  } finally {
    await connection.close();
  }
}
