/**
 * What an operator sees of a conversation in the Temporal UI: search attributes to find it by (ChatStatus,
 * ChatTurns, ChatLastActiveAt; ChatChannel and ChatUser are set at start) and a markdown "current details" panel.
 * Upserting search attributes records commands, so it sits behind a patch: histories recorded before it existed
 * replay without it.
 */
import { patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { ConversationState } from './conversation-state';
import { searchAttributeKeys as keys } from './messages';

/** Shows the conversation's current state; `closed` is the status an idle-closed conversation keeps. */
export function showOperators(state: ConversationState, status: ConversationState['status'] | 'closed' = state.status): void {
  setCurrentDetails(details(state, status));
  if (!patched('operator-search-attributes')) return;
  upsertSearchAttributes([
    { key: keys.status, value: status },
    { key: keys.turns, value: state.turnCount },
    { key: keys.lastActiveAt, value: new Date() },
  ]);
}

function details(state: ConversationState, status: string): string {
  const lines = [
    `**Status** ${status} · **Turns** ${state.turnCount} · **Waiting messages** ${state.pendingCount()}`,
    `**Context** ${state.window.length} recent turns · summary of ${state.summary.length} characters`,
  ];
  if (state.lastModel) lines.push(`**Last reply** via ${state.lastModel}`);
  if (state.lastProblem) lines.push(`**Last problem** ${state.lastProblem}`);
  return lines.join('\n\n');
}
