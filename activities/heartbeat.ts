/**
 * Keeps a long activity visibly alive while it waits (for a concurrency slot, for the first token).
 */
import type { Context } from '@temporalio/activity';

/**
 * Heartbeats every quarter of the heartbeat timeout (at most every 5 s) until `fn` settles. Heartbeats are how a
 * killed worker is noticed within seconds, and how a cancellation request reaches the activity. The SDK
 * throttles heartbeats, so calling it more often than needed (e.g. on every token as well) costs nothing.
 */
export async function withHeartbeats<T>(context: Context, fn: () => Promise<T>): Promise<T> {
  const timeoutMs = context.info.heartbeatTimeoutMs;
  const periodMs = timeoutMs ? Math.min(5_000, Math.max(50, timeoutMs / 4)) : 5_000;
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), periodMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
