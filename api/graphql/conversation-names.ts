/**
 * How GraphQL names conversations: a client id ("demo") is the caller's API conversation, a full id
 * (`web:alice:x`, `api:alice:demo`, `telegram:42`) any conversation the caller may reach (lib/conversation-address.ts).
 */
import type { Role } from '../../lib/auth';
import type { ConversationRef } from '../../lib/conversations';
import type { GraphqlContext } from './context';

export const conversationIdDescription = 'Your conversation id ("demo"), or a full one (web:<user>:<id>, api:<user>:<id>, telegram:<chat>).';

/** The conversation `id` names for the caller; `need` is what another user's conversation requires. */
export function conversationNamed({ caller, conversations }: GraphqlContext, id: string, need: Exclude<Role, 'user'>): ConversationRef {
  return conversations.address(caller, id, { channel: 'api', need });
}
