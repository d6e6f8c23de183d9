/**
 * Bearer authentication for /graphql: the REST API's (api/auth.ts: the same verifier, challenge and audit record),
 * its refusal told the GraphQL way: 401 with WWW-Authenticate, and an error coded UNAUTHENTICATED. GraphiQL's page,
 * where it is served, loads without a token; every request the page makes carries one.
 */
import type { MiddlewareHandler } from 'hono';
import { shouldRenderGraphiQL } from 'graphql-yoga';
import type { Verifier } from '../../lib/auth';
import { authenticate } from '../auth';

export function authenticateGraphql(verify: Verifier, options: { graphiql: boolean }): MiddlewareHandler {
  const bearer = authenticate(verify);
  return async (c, next) => {
    if (options.graphiql && shouldRenderGraphiQL(c.req.raw)) return next();
    const refused = await bearer(c, next);
    if (!refused) return;
    const { detail } = (await refused.json()) as { detail: string };
    const challenge = refused.headers.get('www-authenticate') ?? 'Bearer';
    return c.json({ errors: [{ message: detail, extensions: { code: 'UNAUTHENTICATED' } }] }, 401, { 'www-authenticate': challenge });
  };
}
