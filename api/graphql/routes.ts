/**
 * GraphQL on the API's app at /graphql: authentication first (authentication.ts), then yoga: queries and mutations
 * by POST (queries also by GET), subscriptions as server-sent events, GraphiQL's page by GET from a browser.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps';
import { authenticateGraphql } from './authentication';
import { createGraphqlServer, graphqlPath, servesGraphiql } from './server';

export function graphqlRoutes(deps: ApiDeps, app: OpenAPIHono) {
  const yoga = createGraphqlServer(deps);
  app.use(graphqlPath, authenticateGraphql(deps.verify, { graphiql: servesGraphiql(deps.config) }));
  app.on(['GET', 'POST'], graphqlPath, (c) => yoga.fetch(c.req.raw, { hono: c }));
}
