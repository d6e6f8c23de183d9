/** /healthz: the process is up. /readyz: Temporal, Redis and the archive all answer. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps';
import { withTimeout } from '../../lib/with-timeout';
import { problem } from '../problem';

/** A dependency that does not answer within this time counts as down. */
const checkTimeoutMs = 3000;

export function healthRoutes({ readiness }: ApiDeps, app: OpenAPIHono) {
  return app
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const entries = await Promise.all(
        Object.entries(readiness).map(async ([name, check]) => [name, await outcome(check)] as const),
      );
      const checks = Object.fromEntries(entries);
      const down = entries.filter(([, result]) => result !== 'ok').map(([name]) => name);
      if (down.length === 0) return c.json({ status: 'ready', checks });
      return problem(c, 503, `Not ready: ${down.join(', ')} unavailable.`, { checks });
    });
}

async function outcome(check: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(check(), checkTimeoutMs, 'check');
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  }
}
