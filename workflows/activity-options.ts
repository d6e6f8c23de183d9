/**
 * Activity options, grouped by kind. Every non-default value says why.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/** Model calls stream for a long time, so a killed worker is detected by heartbeat, not by start-to-close. */
export const modelCall: ActivityOptions = {
  // A long answer from a slow provider can stream for minutes.
  startToCloseTimeout: '5 minutes',
  // The activity heartbeats on every token and while waiting; a dead worker is noticed within seconds.
  heartbeatTimeout: '10 seconds',
  retry: {
    // Each attempt already walks the whole fallback chain; a few spaced-out attempts ride out short outages.
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    // Every provider refused the request itself: sending it again cannot help.
    nonRetryableErrorTypes: ['ModelRequestRejected'],
  },
};

/** Writes whose loss would lose data (closing archive, reply delivery): retried until they succeed. */
export const durableWrite: ActivityOptions = {
  // One write takes milliseconds; a worker killed in the middle is noticed after this, not after minutes.
  startToCloseTimeout: '10 seconds',
  // Redis or S3 may be down for a while; keep trying, but never wait long once it is back (a user is waiting).
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
};

/**
 * The read a new run needs before its first turn (its context, from Redis or the archive), run as a local activity:
 * inside the workflow task, so no activity task and no second workflow task (per new conversation, one marker in the
 * history instead of six events and two dispatches through the server).
 */
export const localRead: LocalActivityOptions = {
  // As for durable writes: a dead worker must not hold the conversation for long.
  startToCloseTimeout: '10 seconds',
  // Until the archive answers (a conversation must not start over when its past is only unreachable); each retry
  // stays inside the workflow task, which the SDK keeps alive while it waits.
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
};

/** Reads and best-effort writes: a few quick attempts, then the workflow carries on without them. */
export const bestEffort: ActivityOptions = {
  // As for durable writes: a dead worker must not hold the conversation for long.
  startToCloseTimeout: '10 seconds',
  // The workflow has a fallback (archive instead of Redis, retry at the next flush), so do not block on it.
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3 },
};

/** Telegram replies go through their own task queue, whose workers cap sends (Telegram rate-limits bots). */
export function telegramTaskQueue(conversationsTaskQueue: string): string {
  return `${conversationsTaskQueue}-telegram`;
}

/** The live preview of a Telegram reply ("typing…", then the answer growing in one message). */
export const telegramPreview: ActivityOptions = {
  // It lives as long as the model call it shows.
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  // Only a preview: the final delivery shows the whole reply anyway; one more try after a crashed worker.
  retry: { initialInterval: '1 second', maximumAttempts: 2 },
};

/** The final Telegram delivery: must succeed, so it retries until it does (or Telegram refuses the chat for good). */
export const telegramDelivery: ActivityOptions = {
  // A few parts, each waiting at most 5 s for the chat's turn; longer waits (a 429) go back to the retry policy.
  startToCloseTimeout: '1 minute',
  // A Telegram outage of hours (or a revoked token) must not hold the conversation forever; the reply stays in
  // the transcript and the operator view names the problem.
  scheduleToCloseTimeout: '6 hours',
  // It heartbeats between parts and while waiting for the preview's lock: a killed worker is noticed fast.
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    // The user blocked the bot or the chat is gone: the reply stays in the transcript, nothing to resend.
    nonRetryableErrorTypes: ['TelegramRefused', 'NotTelegram'],
  },
};
