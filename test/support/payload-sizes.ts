/**
 * Measures what Temporal actually stores: every payload in every run of a workflow, in bytes as the server got
 * them (after the data converter: JSON, encryption), grouped by path (`signal message`, `generateReply input`, …).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { overflowEncoding } from '../../lib/payload-overflow';

const { Payloads } = temporal.api.common.v1;
type Event = temporal.api.history.v1.IHistoryEvent;

export interface PayloadSizes {
  /** Largest payload seen per path, in bytes. */
  largest: Map<string, number>;
  /** Payloads the data converter had to offload to the archive (see lib/payload-overflow.ts). */
  offloaded: number;
  runs: { runId: string; status: string }[];
}

export async function payloadSizes(client: Client, workflowId: string): Promise<PayloadSizes> {
  const sizes: PayloadSizes = { largest: new Map(), offloaded: 0, runs: [] };
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    sizes.runs.push({ runId: run.runId, status: run.status.name });
    const activityTypes = new Map<string, string>();
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId, runId: run.runId },
        // Small pages: a page of events with large payloads would exceed gRPC's 4 MB message limit.
        maximumPageSize: 20,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      for (const event of page.history?.events ?? []) {
        for (const [path, payloads] of payloadsOf(event, activityTypes)) {
          if (!payloads?.payloads?.length) continue;
          const bytes = Payloads.encode(payloads).finish().length;
          sizes.largest.set(path, Math.max(bytes, sizes.largest.get(path) ?? 0));
          sizes.offloaded += payloads.payloads.filter(isExternalReference).length;
        }
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  }
  return sizes;
}

/** A readable table of the largest payload per path, for the test log and the note. */
export function formatSizes(sizes: PayloadSizes, budget: number): string {
  const rows = [...sizes.largest.entries()].sort(([a], [b]) => a.localeCompare(b));
  return rows.map(([path, bytes]) => `${path.padEnd(32)} ${String(bytes).padStart(9)} B  (${((100 * bytes) / budget).toFixed(1)} % of budget)`).join('\n');
}

function payloadsOf(event: Event, activityTypes: Map<string, string>): [string, temporal.api.common.v1.IPayloads | null | undefined][] {
  const scheduled = event.activityTaskScheduledEventAttributes;
  if (scheduled) {
    const name = scheduled.activityType?.name ?? 'activity';
    activityTypes.set(String(event.eventId), name);
    return [[`${name} input`, scheduled.input]];
  }
  const completed = event.activityTaskCompletedEventAttributes;
  if (completed) return [[`${activityTypes.get(String(completed.scheduledEventId)) ?? 'activity'} result`, completed.result]];
  const signaled = event.workflowExecutionSignaledEventAttributes;
  if (signaled) return [[`signal ${signaled.signalName}`, signaled.input]];
  if (event.workflowExecutionStartedEventAttributes) return [['workflow input', event.workflowExecutionStartedEventAttributes.input]];
  if (event.workflowExecutionContinuedAsNewEventAttributes) {
    return [['continue-as-new input', event.workflowExecutionContinuedAsNewEventAttributes.input]];
  }
  return [];
}

function isExternalReference(payload: temporal.api.common.v1.IPayload): boolean {
  const encoding = payload.metadata?.encoding;
  return !!encoding && Buffer.from(encoding).toString() === overflowEncoding;
}
