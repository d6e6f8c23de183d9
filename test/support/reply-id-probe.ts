/**
 * A workflow interceptor module for the replay test: reports the reply id of every generateReply the workflow
 * schedules, also while replaying, through the `replyIds` sink.
 */
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface ReplyIdSinks extends Sinks {
  replyIds: { scheduled(replyId: string): void };
}

const { replyIds } = proxySinks<ReplyIdSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        if (input.activityType === 'generateReply') replyIds.scheduled((input.args[0] as { replyId: string }).replyId);
        return next(input);
      },
    },
  ],
});
