/**
 * The GraphQL server (graphql-yoga) over the code-first schema: errors coded in one place and masked otherwise, the
 * query limits, subscriptions over SSE, and GraphiQL outside production with its assets inlined from
 * @graphql-yoga/render-graphiql (nothing from a CDN). Authentication happens before yoga sees a request (routes.ts).
 *
 * Persisted operations: every operation is an ordinary document within the query limits, so a client may persist
 * its operations today (generate them and their SHA-256 hashes from `schema.graphql`, e.g. with GraphQL Code
 * Generator's persisted-documents preset) and send them in full. To make the server accept only those, add
 * @graphql-yoga/plugin-persisted-operations (not installed) to `plugins` with a `getPersistedOperation(hash)` over
 * that manifest; clients then send `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"…"}}}` instead of
 * `query`. Nothing else here changes.
 */
// graphql-yoga's types pull lib.dom into the program (through @whatwg-node/fetch), and with it DOM's ReadableStream,
// which is async-iterable (as Node's is) only with this lib too: without it, `for await (… of response.body)` stops
// type-checking everywhere.
/// <reference lib="dom.asynciterable" />
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type GraphiQLOptions } from 'graphql-yoga';
import type { AppConfig } from '../../lib/config';
import type { ApiDeps } from '../deps';
import { auditLimits } from './audit-limits';
import { graphqlContext, type GraphqlContext, type HonoServerContext } from './context';
import { graphqlErrorMask } from './errors';
import { queryLimitPlugins } from './query-limits';
import { createSchema } from './schema';

export const graphqlPath = '/graphql';

const graphiql: GraphiQLOptions = {
  title: 'ai-assistant-core GraphQL',
  // The page loads without a token; its requests need one (npm run token -- --user <you>; npm start writes data/dev-token).
  headers: JSON.stringify({ authorization: 'Bearer <token>' }, null, 2),
  defaultQuery: '{\n  me {\n    user\n    role\n  }\n  conversations {\n    id\n    title\n    status\n  }\n}\n',
};

/** GraphiQL is a development tool: never served in production. */
export function servesGraphiql(config: AppConfig): boolean {
  return config.mode !== 'production';
}

export function createGraphqlServer({ config, logger, conversations }: Pick<ApiDeps, 'config' | 'logger' | 'conversations'>) {
  return createYoga<HonoServerContext, GraphqlContext>({
    schema: createSchema(),
    graphqlEndpoint: graphqlPath,
    context: graphqlContext(conversations),
    maskedErrors: { maskError: graphqlErrorMask(logger) },
    // yoga's own lines are progress chatter and a copy of each error it masks; the mask logs those, at their level.
    logging: false,
    graphiql: servesGraphiql(config) ? graphiql : false,
    renderGraphiQL,
    landingPage: false,
    // Like the REST API: no cross-origin calls.
    cors: false,
    maxRequestBodySize: config.api.maxBodyBytes,
    plugins: [...queryLimitPlugins(), auditLimits()],
  });
}
