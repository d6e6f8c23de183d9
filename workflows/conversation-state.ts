/**
 * The conversation's decisions as a plain class: dedupe, inbox, context window, counters.
 * No Temporal APIs here, so unit tests drive it directly; the workflow only wires it to signals and activities.
 */
import type {
  CarriedState,
  ContextSnapshot,
  ConversationCounters,
  ConversationSettings,
  ConversationSnapshot,
  ConversationStatus,
  InboundMessage,
  InboxItem,
  Reply,
  Turn,
} from './messages';
import { estimateTokens, estimateTurnTokens } from './token-estimate';

const zeroCounters: ConversationCounters = {
  messagesReceived: 0,
  duplicatesIgnored: 0,
  replies: 0,
  apologies: 0,
  summaries: 0,
  resets: 0,
};

/** What the next loop iteration should do with the inbox. */
export type NextWork = { kind: 'reset' } | { kind: 'turn'; messages: InboundMessage[] } | { kind: 'none' };

export class ConversationState {
  status: ConversationStatus = 'waiting';
  summary: string;
  window: Turn[];
  turnCount: number;
  unarchived: Turn[];
  readonly counters: ConversationCounters;
  signalsThisRun = 0;
  turnsThisRun = 0;
  private inbox: InboxItem[];
  private seenIds: string[];
  private seen: Set<string>;

  constructor(
    private readonly settings: ConversationSettings,
    carried?: CarriedState,
  ) {
    this.summary = carried?.summary ?? '';
    this.window = carried?.window ?? [];
    this.turnCount = carried?.turnCount ?? 0;
    this.unarchived = carried?.unarchived ?? [];
    this.inbox = carried?.inbox ?? [];
    this.counters = { ...zeroCounters, ...carried?.counters };
    this.seenIds = carried?.seenMessageIds ?? [];
    this.seen = new Set(this.seenIds);
  }

  /** Queues a message unless its id was seen before. Returns false for a redelivery. */
  acceptMessage(message: InboundMessage): boolean {
    this.signalsThisRun++;
    if (this.seen.has(message.messageId)) {
      this.counters.duplicatesIgnored++;
      return false;
    }
    this.remember(message.messageId);
    this.counters.messagesReceived++;
    this.inbox.push({ kind: 'message', message });
    return true;
  }

  acceptReset(requestId: string): void {
    this.signalsThisRun++;
    this.inbox.push({ kind: 'reset', requestId });
  }

  hasWork(): boolean {
    return this.inbox.length > 0;
  }

  pendingCount(): number {
    return this.inbox.filter((item) => item.kind === 'message').length;
  }

  /**
   * Takes the next unit of work in arrival order: a reset, or every message queued before the next reset
   * (coalescing: one turn answers all of them).
   */
  takeNext(): NextWork {
    const first = this.inbox[0];
    if (!first) return { kind: 'none' };
    if (first.kind === 'reset') {
      this.inbox.shift();
      return { kind: 'reset' };
    }
    const end = this.inbox.findIndex((item) => item.kind === 'reset');
    const taken = this.inbox.splice(0, end === -1 ? this.inbox.length : end);
    return { kind: 'turn', messages: taken.flatMap((item) => (item.kind === 'message' ? [item.message] : [])) };
  }

  /** A fresh context: summary and window are cleared; history stays archived, dedupe memory stays. */
  reset(): void {
    this.summary = '';
    this.window = [];
    this.counters.resets++;
  }

  recordTurn(messages: InboundMessage[], reply: Reply): Turn {
    const turn: Turn = { number: ++this.turnCount, messages, reply };
    this.window.push(turn);
    this.unarchived.push(turn);
    this.turnsThisRun++;
    this.counters.replies++;
    if (reply.kind === 'apology') this.counters.apologies++;
    return turn;
  }

  /** The oldest turns to fold into the summary so summary + window fit the budget (the newest turn stays). */
  turnsToFold(): Turn[] {
    const budget = this.settings.contextTokenBudget;
    let total = estimateTokens(this.summary) + this.window.reduce((sum, t) => sum + estimateTurnTokens(t), 0);
    let count = 0;
    while (total > budget && count < this.window.length - 1) {
      total -= estimateTurnTokens(this.window[count]!);
      count++;
    }
    return this.window.slice(0, count);
  }

  /** Replaces the first `foldedCount` window turns by the new summary. */
  applySummary(summary: string, foldedCount: number): void {
    this.summary = summary;
    this.window = this.window.slice(foldedCount);
    this.counters.summaries++;
  }

  /** Drops the oldest window turns without summarizing (when summarizing failed for good). */
  dropFromWindow(count: number): void {
    this.window = this.window.slice(count);
  }

  markArchived(throughTurn: number): void {
    this.unarchived = this.unarchived.filter((turn) => turn.number > throughTurn);
  }

  /** Restores what an earlier run saved; messages already answered then are dropped as duplicates. */
  restore(snapshot: ContextSnapshot): void {
    this.summary = snapshot.summary;
    this.window = snapshot.window;
    this.turnCount = Math.max(this.turnCount, snapshot.turnCount);
    const before = this.seenIds;
    this.seenIds = [];
    this.seen = new Set();
    for (const id of [...snapshot.seenMessageIds, ...before]) if (!this.seen.has(id)) this.remember(id);
    const restoredIds = new Set(snapshot.seenMessageIds);
    this.inbox = this.inbox.filter((item) => {
      const duplicate = item.kind === 'message' && restoredIds.has(item.message.messageId);
      if (duplicate) {
        this.counters.duplicatesIgnored++;
        this.counters.messagesReceived--;
      }
      return !duplicate;
    });
  }

  contextSnapshot(savedAt: Date): ContextSnapshot {
    return {
      summary: this.summary,
      window: this.window,
      seenMessageIds: this.seenIds,
      turnCount: this.turnCount,
      savedAt: savedAt.toISOString(),
    };
  }

  carry(): CarriedState {
    return {
      summary: this.summary,
      window: this.window,
      seenMessageIds: this.seenIds,
      turnCount: this.turnCount,
      inbox: this.inbox,
      unarchived: this.unarchived,
      counters: this.counters,
    };
  }

  shouldContinueAsNew(suggestedByServer: boolean): boolean {
    return (
      suggestedByServer ||
      this.turnsThisRun >= this.settings.maxTurnsPerRun ||
      this.signalsThisRun >= this.settings.maxSignalsPerRun
    );
  }

  snapshot(conversationId: string): ConversationSnapshot {
    return {
      conversationId,
      status: this.status,
      turnCount: this.turnCount,
      pendingCount: this.pendingCount(),
      summary: this.summary,
      recentTurns: this.window,
      unarchivedTurns: this.unarchived,
      counters: { ...this.counters, signalsThisRun: this.signalsThisRun, turnsThisRun: this.turnsThisRun },
    };
  }

  /** Keeps the newest `dedupeWindow` ids: enough to cover any realistic redelivery delay. */
  private remember(messageId: string): void {
    this.seen.add(messageId);
    this.seenIds.push(messageId);
    while (this.seenIds.length > this.settings.dedupeWindow) this.seen.delete(this.seenIds.shift()!);
  }
}
