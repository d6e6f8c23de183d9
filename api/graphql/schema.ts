/**
 * The GraphQL schema, code-first with Pothos. `schema.graphql` at the repository root is its printed form, types
 * sorted so that the file changes only when the schema does; `npm run graphql:schema` rewrites it and a test fails
 * when the two differ.
 */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { createBuilder } from './builder';
import { conversationTypes } from './conversation-types';
import { eventTypes } from './event-types';
import { addMutations } from './mutations';
import { addQueries } from './queries';
import { addSubscriptions } from './subscriptions';

export const schemaFile = new URL('../../schema.graphql', import.meta.url);

export function createSchema(): GraphQLSchema {
  const builder = createBuilder();
  const types = conversationTypes(builder);
  addQueries(builder, types);
  addMutations(builder, types);
  addSubscriptions(builder, eventTypes(builder, types));
  return builder.toSchema();
}

export function printedSchema(schema: GraphQLSchema = createSchema()): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
