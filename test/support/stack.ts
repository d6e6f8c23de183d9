/**
 * The real launcher (API and one worker as child processes, the worker restarted within a second when it dies)
 * against the shared test services: for suites that SIGKILL a worker.
 */
import { startStack, type StackHandle } from '../../scripts/stack';
import { freePort } from '../../lib/free-ports';

/** `env` from testEnvironment(); the output lines (the launcher's, and each process's prefixed) go to `log`, or nowhere. */
export async function startTestStack(env: Record<string, string>, log: (line: string) => void = () => {}): Promise<StackHandle> {
  return startStack({
    env,
    port: await freePort(),
    workers: 1,
    devServer: false,
    restartPolicy: { initialDelayMs: 200, maxDelayMs: 1000, resetAfterMs: 60_000 },
    log,
  });
}
