/**
 * What a GraphQL request carries: yoga gets the Hono context of the request (authenticated by then), and every
 * resolver the caller it stands for and the edge API (lib/conversations.ts).
 */
import type { Context } from 'hono';
import type { Caller, Conversations } from '../../lib/conversations';
import { callerOf } from '../caller';

/** What the /graphql route hands yoga with each request. */
export interface HonoServerContext {
  hono: Context;
}

export interface GraphqlContext {
  caller: Caller;
  conversations: Conversations;
}

/** yoga's `context`: built only for requests that run an operation (GraphiQL's page runs none). */
export function graphqlContext(conversations: Conversations) {
  return ({ hono }: HonoServerContext): GraphqlContext => ({ caller: callerOf(hono), conversations });
}
