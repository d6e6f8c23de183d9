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

/** The conversation with its live snapshot (asks the workflow: needs a worker) or its stored context. */
export async function findConversation(deps: ApiDeps, conversationId: string, clientId: string): Promise<FoundConversation> {
  const state = await deps.conversations.runState(conversationId);
  if (state === 'running') return { state, snapshot: await deps.conversations.snapshot(conversationId) };
  const context = await storedContext(deps, conversationId);
  if (state === 'unknown' && !context) throw notFound(clientId);
  return { state, context };
}

/** Only that the conversation exists (Temporal's record or a stored context): no worker involved. */
export async function requireConversation(deps: ApiDeps, conversationId: string, clientId: string): Promise<void> {
  const state = await deps.conversations.runState(conversationId);
  if (state === 'unknown' && !(await storedContext(deps, conversationId))) throw notFound(clientId);
}

async function storedContext(deps: ApiDeps, conversationId: string): Promise<ContextSnapshot | null> {
  return (await deps.replies.loadContext(conversationId)) ?? (await deps.history.latestContext(conversationId));
}

export function notFound(clientId: string): NotFoundError {
  return new NotFoundError(`No conversation "${clientId}".`);
}
