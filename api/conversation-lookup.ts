/**
 * Finds a conversation wherever it is: a running workflow (live snapshot), or closed with its context in
 * Redis or the archive. Unknown everywhere → 404.
 */
import { NotFoundError } from '../lib/errors';
import type { ConversationRunState } from '../lib/conversations';
import type { ContextSnapshot, ConversationSnapshot } from '../workflows/messages';
import type { ApiDeps } from './deps';

export type FoundConversation =
  | { state: 'running'; snapshot: ConversationSnapshot }
  | { state: Exclude<ConversationRunState, 'running'>; context: ContextSnapshot | null };

export async function findConversation(deps: ApiDeps, conversationId: string, clientId: string): Promise<FoundConversation> {
  const state = await deps.conversations.runState(conversationId);
  if (state === 'running') return { state, snapshot: await deps.conversations.snapshot(conversationId) };
  const context =
    (await deps.replies.loadContext(conversationId)) ?? (await deps.history.latestContext(conversationId));
  if (state === 'unknown' && !context) throw new NotFoundError(`No conversation "${clientId}".`);
  return { state, context };
}
