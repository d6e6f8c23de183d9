import { fileURLToPath } from 'node:url';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type InjectedSinks } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { noWorkflowSpans } from '../workers/tracing';
import { tracingInterceptorModules, workflowCode } from '../workers/workflow-bundle';
import { quietLogger, sharedWorkflowBundle } from './support/engine';
import { loadHistories } from './support/histories';
import type { ReplyIdSinks } from './support/reply-id-probe';

/** The reply ids of the generateReply activities a history scheduled, in order. */
function scheduledReplyIds(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((event) => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'generateReply') return [];
    return [(defaultPayloadConverter.fromPayload(scheduled.input!.payloads![0]!) as { replyId: string }).replyId];
  });
}

describe('workflow determinism', () => {
  it('when recorded conversation histories are replayed against the current workflow code then none diverges', async () => {
    const histories = loadHistories();
    expect(histories.length).toBeGreaterThan(0);
    const failures: string[] = [];
    const results = Worker.runReplayHistories({ workflowBundle: await sharedWorkflowBundle(), sinks: noWorkflowSpans }, histories);
    for await (const result of results) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });

  it('when histories recorded before tracing are replayed with its interceptors then every turn gets the reply id it had', async () => {
    // Replay compares commands, not their inputs: a changed uuid4() sequence would not fail the test above.
    const histories = loadHistories();
    const probe = fileURLToPath(new URL('./support/reply-id-probe.ts', import.meta.url));
    const workflowInterceptorModules = [probe, ...tracingInterceptorModules];
    const { code } = await bundleWorkflowCode({ ...workflowCode({ tracing: true }), workflowInterceptorModules, logger: quietLogger });
    const replayed: string[] = [];
    const sinks: InjectedSinks<ReplyIdSinks> = { replyIds: { scheduled: { fn: (_info, replyId) => void replayed.push(replyId), callDuringReplay: true } } };
    for await (const result of Worker.runReplayHistories({ workflowBundle: { code }, sinks: { ...noWorkflowSpans, ...sinks } }, histories)) {
      expect(result.error).toBeUndefined();
    }
    const recorded = histories.flatMap(({ history }) => scheduledReplyIds(history));
    expect(recorded.length).toBeGreaterThan(0);
    expect(replayed).toEqual(recorded);
  });
});
