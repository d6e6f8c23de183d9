/**
 * What one GraphQL document may ask for (graphql-armor), refused before anything runs: depth, aliases, directives,
 * tokens and a cost. The schema itself has no cycles and is at most five levels deep (conversation → recentTurns →
 * reply → usage → totalTokens), so the depth limit is for introspection's cycles (`__type { fields { type { fields
 * … } } }`; GraphiQL's own `__schema` query is exempt) and any cycle added later. Fragments count by what they select,
 * not as a level of their own. A document asking for every field of every query costs 124, so the cost limit leaves
 * room to spare. Aliases are capped low because each aliased `sendMessage` is a message of its own.
 */
import { EnvelopArmor } from '@escape.tech/graphql-armor';

export function queryLimitPlugins() {
  return new EnvelopArmor({
    maxDepth: { n: 6, flattenFragments: true },
    maxAliases: { n: 10 },
    maxDirectives: { n: 10 },
    maxTokens: { n: 1000 },
    costLimit: { maxCost: 1000, flattenFragments: true },
    // Introspection is open to every caller with a token, so "did you mean" hints reveal nothing more.
    blockFieldSuggestion: { enabled: false },
  }).protect().plugins;
}
