/**
 * The Telegram edge's one retry loop: calls `attempt` until it succeeds or `signal` aborts, backing off
 * 0.5 s, 1 s, 2 s … up to 30 s between failures and logging each one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../lib/logger';

/** Resolves with the result, or undefined when stopped first. */
export async function retryUntilStopped<T>(
  what: string,
  attempt: () => Promise<T>,
  { signal, logger }: { signal: AbortSignal; logger: Logger },
): Promise<T | undefined> {
  for (let failures = 1; !signal.aborted; failures++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) break;
      logger.warn({ err: error, failures }, `telegram: ${what} failed; retrying`);
      await sleep(Math.min(30_000, 500 * 2 ** (failures - 1)), undefined, { signal }).catch(() => undefined);
    }
  }
  return undefined;
}
