/**
 * Counts every request by the route pattern that answered it (`/api/v1/conversations/:id`, never the id) and
 * times it to the response head. Requests no route matched count as `unmatched`, so probes of random paths
 * cannot grow the label set.
 */
import type { MiddlewareHandler } from 'hono';
import type { Metrics } from '../lib/metrics';
import { routePattern } from './route-pattern';

export function httpMetrics(metrics: Metrics['http']): MiddlewareHandler {
  return async (c, next) => {
    const stop = metrics.duration.startTimer();
    await next();
    const route = routePattern(c);
    const method = c.req.method;
    stop({ route, method });
    metrics.requests.inc({ route, method, status: String(c.res.status) });
  };
}
