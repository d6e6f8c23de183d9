/**
 * What an operator sees of a conversation in the Temporal UI: search attributes to find it by (ChatStatus,
 * ChatTurns, ChatLastActiveAt; ChatChannel and ChatUser are set at start) and a markdown "current details" panel.
 *
 * Every search attribute write is a visibility update on the server: written on every turn (thinking, then
 * waiting) they cost a third of the engine's throughput. So while a conversation is busy they are throttled: a
 * turn that starts within `refreshMs` of the last write writes nothing, and the conversation writes what it owes
 * once `refreshMs` has passed (the workflow waits for that, see refreshDueAt). A turn that was shown as thinking
 * is always shown as finished, and closed is written at once. The details panel is always current.
 *
 * Upserting search attributes records commands, so it sits behind changes (workflows/changes.ts): histories
 * recorded before either existed replay without them.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { HasChange } from './changes';
import type { ConversationState } from './conversation-state';
import { searchAttributeKeys as keys } from './messages';

type Status = ConversationState['status'] | 'closed';

/** The quiet period when a conversation's settings do not name one (runs started before it existed). */
export const defaultQuietPeriodMs = 60_000;

/** What the search attributes say, and when they were written. */
export interface ShownAttributes {
  status: Status;
  turns: number;
  atMs: number;
}

export class OperatorView {
  /**
   * @param has the run's changes (workflows/changes.ts), asked where the run first writes.
   * @param refreshMs undefined: write on every change, as runs recorded before throttling did.
   * @param shown what the run starts with: the edge sets them at start, continue-as-new carries them over.
   */
  constructor(private readonly has: HasChange, private readonly refreshMs: number | undefined, private shown?: ShownAttributes) {}

  /** Shows the conversation's current state; `closed` is the status an idle-closed conversation keeps. */
  show(state: ConversationState, status: Status = state.status): void {
    setCurrentDetails(details(state, status));
    if (this.refreshMs !== undefined && !this.due(state.turnCount, status)) return;
    this.write(state, status);
  }

  /** Writes what the search attributes owe now, throttled or not: the next run starts with them (continue-as-new). */
  flush(state: ConversationState): void {
    if (this.refreshDueAt(state) !== undefined) this.write(state, state.status);
  }

  private write(state: ConversationState, status: Status): void {
    if (!this.has('operator-search-attributes')) return;
    upsertSearchAttributes([
      { key: keys.status, value: status },
      { key: keys.turns, value: state.turnCount },
      { key: keys.lastActiveAt, value: new Date() },
    ]);
    this.shown = { status, turns: state.turnCount, atMs: Date.now() };
  }

  /** When the search attributes lag behind `state`: the workflow time at which they may be written; else undefined. */
  refreshDueAt(state: ConversationState): number | undefined {
    const { shown } = this;
    if (this.refreshMs === undefined || !shown || (shown.status === state.status && shown.turns === state.turnCount)) return undefined;
    return shown.atMs + this.refreshMs;
  }

  private due(turns: number, status: Status): boolean {
    const { shown } = this;
    if (!shown) return true;
    if (shown.status === status && shown.turns === turns) return false;
    // Thinking → waiting always shows: a finished turn must not stay listed as thinking. Closing lasts a moment
    // (closed follows at once): not worth a write of its own.
    const throttled = (status === 'thinking' || status === 'waiting' || status === 'closing') && shown.status === 'waiting';
    return !throttled || Date.now() - shown.atMs >= this.refreshMs!;
  }
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
