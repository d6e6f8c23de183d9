/**
 * The parked queue's worker (workflows/parking.ts), run only when there is something for it: with parking on from
 * the start; with parking off (the default) once Temporal's visibility store shows a running run on the parked queue
 * (parked under an earlier setting, or by a worker with parking on during a rolling change), looked for at start and
 * every {@link checkEveryMs} after. Once started it runs until the process stops. Not running it saves each worker
 * its own workflow thread and copy of the workflow code: ~50 MB of RSS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Logger } from '../lib/logger';
import { quoted } from '../lib/visibility-query';
import { parkedTaskQueue } from '../workflows/parking';
import { conversationWorkflowType } from '../workflows/messages';

const checkEveryMs = 15_000;

export interface ParkedQueueOptions {
  /** Parking is on here: the worker starts at once. */
  parking: boolean;
  client: Client;
  /** The conversations' queue (the parked one is named after it). */
  taskQueue: string;
  /** Creates and runs the worker of the queue named, beside the process's others (a failure stops the process). */
  serve: (taskQueue: string) => Promise<void>;
  logger: Logger;
}

/** Resolves once the worker runs (parking on) or the looking has begun (parking off); `stop()` stops looking. */
export async function serveParkedQueue(options: ParkedQueueOptions): Promise<{ stop(): Promise<void> }> {
  const taskQueue = parkedTaskQueue(options.taskQueue);
  if (options.parking) {
    await options.serve(taskQueue);
    return { stop: async () => {} };
  }
  const stopped = new AbortController();
  const query = `WorkflowType = ${quoted(conversationWorkflowType)} AND ExecutionStatus = 'Running' AND TaskQueue = ${quoted(taskQueue)}`;
  // One warning per outage (Temporal down for an hour is one line, not 240), one line when counting works again.
  let failing = false;
  const parkedRuns = () =>
    options.client.workflow.count(query).then(
      ({ count }) => {
        if (failing) options.logger.info({ taskQueue }, 'counting parked runs works again');
        failing = false;
        return count;
      },
      (error: unknown) => {
        if (!failing) options.logger.warn({ err: error, taskQueue }, 'could not count parked runs; looking again every 15 s');
        failing = true;
        return 0;
      },
    );
  const looking = (async () => {
    while (!stopped.signal.aborted) {
      const count = await parkedRuns();
      if (count > 0) {
        options.logger.info({ taskQueue, parkedRuns: count }, 'parked runs found: serving the parked queue');
        try {
          return await options.serve(taskQueue);
        } catch (error) {
          options.logger.error({ err: error, taskQueue }, 'could not start the parked queue\'s worker; trying again later');
        }
      }
      await sleep(checkEveryMs, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await looking;
    },
  };
}
