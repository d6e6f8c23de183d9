/**
 * Parking (when `park_after` is set): a conversation quiet that long since its checkpoint (archive and Redis context
 * up to date) continues as new on a task queue of its own, the parked queue, where it only waits for its next message
 * or its idle close. So the conversations' queue carries only live work: after downtime, the thousands of idle closes
 * that came due wait in the parked queue's line, not in front of new messages, and parked runs leave the main
 * worker's cache. A parked run that gets a message (or a reset) continues as new back on the conversations' queue.
 */

/** Where a parked run waits, beside the conversations' queue `conversationsTaskQueue`. */
export function parkedTaskQueue(conversationsTaskQueue: string): string {
  return `${conversationsTaskQueue}-parked`;
}

/** What a parked run knows beyond a continued one: where to go back to, and when it closes if nothing comes. */
export interface Parking {
  /** The conversations' task queue. */
  taskQueue: string;
  /** Epoch ms of the idle close. */
  idleAt: number;
}
