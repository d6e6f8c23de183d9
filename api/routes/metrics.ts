/**
 * GET /metrics: the API process's Prometheus metrics, for operators (scrape with a bearer token, e.g. Prometheus'
 * `authorization` or `oauth2` client credentials). Request counts by route tell how the service is used.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { hasRole } from '../../lib/auth';
import { audit } from '../audit';
import { authenticate, principalOf } from '../auth';
import type { ApiDeps } from '../deps';
import { problem } from '../problem';

export function metricsRoutes({ metrics, verify }: ApiDeps, app: OpenAPIHono) {
  app.use('/metrics', authenticate(verify));
  return app.get('/metrics', async (c) => {
    const { role } = principalOf(c);
    if (!hasRole(principalOf(c), 'operator')) {
      audit(c, 'role.denied', 'GET /metrics', 'denied');
      return problem(c, 403, `Reading metrics needs the operator role; your token grants ${role}.`);
    }
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
}
