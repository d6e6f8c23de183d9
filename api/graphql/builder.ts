/** The Pothos schema builder; resolvers receive a GraphqlContext and only translate GraphQL into edge API calls. */
import SchemaBuilder from '@pothos/core';
import type { GraphqlContext } from './context';

export function createBuilder() {
  return new SchemaBuilder<{ Context: GraphqlContext; DefaultFieldNullability: false }>({ defaultFieldNullability: false });
}

export type GraphqlBuilder = ReturnType<typeof createBuilder>;
