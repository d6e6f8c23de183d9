/**
 * The real launcher (API and one worker as child processes, the worker restarted within a second when it dies)
 * against the shared test services: for suites that SIGKILL a worker.
 */
import { startStack, type StackHandle } from '../../scripts/stack';
import { freePort } from '../../lib/free-ports';

/** `env` from testEnvironment(); the launcher's own output is dropped. */
export async function startTestStack(env: Record<string, string>): Promise<StackHandle> {
  return startStack({
    env,
    port: await freePort(),
    workers: 1,
    devServer: false,
    restartPolicy: { initialDelayMs: 200, maxDelayMs: 1000, resetAfterMs: 60_000 },
    log: () => {},
  });
}
