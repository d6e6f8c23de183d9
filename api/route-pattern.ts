/** The route pattern that answered a request, for metrics labels and span names: never the ids in its path. */
import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/** E.g. `/api/v1/conversations/:id`; `unmatched` when no route did (so probes of random paths add nothing new). */
export function routePattern(c: Context): string {
  const answered = matchedRoutes(c)[c.req.routeIndex];
  return answered && answered.path !== '/*' && answered.path !== '*' ? answered.path : 'unmatched';
}
