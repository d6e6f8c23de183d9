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
  StashedState,
  TextRef,
  Turn,
} from './messages';
import {
  carriedInlineMaxBytes,
  encodedBytes,
  historyBytesPerRun,
  payloadBudgetBytes,
  textBytes,
  turnTextBudgetBytes,
  unarchivedBudgetBytes,
  windowBudgetBytes,
} from './payload-budget';
import { estimateTokens, estimateTurnTokens } from './token-estimate';

const zeroCounters: ConversationCounters = {
  messagesReceived: 0,
  duplicatesIgnored: 0,
  replies: 0,
  apologies: 0,
  summaries: 0,
  resets: 0,
  malformedIgnored: 0,
};

/** A turn answers at most this many queued messages; the rest wait for the next turn (keeps payloads small). */
export const maxMessagesPerTurn = 20;
/** Room left in the continue-as-new input for the settings (system prompt) and what arrives while stashing. */
const carriedMarginBytes = 64 * 1024;
/** Runs recorded before the byte budget archived early at this much text (kept so their histories replay). */
const maxUnarchivedChars = 256 * 1024;

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
  /** `provider/model` of the last answer, for operators. */
  lastModel: string | undefined;
  /** The last thing that went wrong (apology, summary or archive failure), for operators. */
  lastProblem: string | undefined;
  private inbox: InboxItem[];
  private seenIds: string[];
  private seen: Set<string>;

  /** Until this workflow time (ms) the run does not try to continue as new again (stashing its state failed). */
  private continueAsNewAfterMs = 0;

  /**
   * @param budgeted bound turns, window and segments in bytes too (payload-budget.ts). False only while replaying
   * runs recorded before the byte budget existed, whose histories must replay exactly as they were recorded.
   */
  constructor(
    private readonly settings: ConversationSettings,
    carried?: CarriedState,
    private readonly budgeted = true,
  ) {
    this.summary = carried?.summary ?? '';
    this.window = carried?.window ?? [];
    this.turnCount = carried?.turnCount ?? 0;
    this.unarchived = carried?.unarchived ?? [];
    this.inbox = carried?.inbox ?? [];
    this.counters = { ...zeroCounters, ...carried?.counters };
    this.seenIds = carried?.seenMessageIds ?? [];
    this.seen = new Set(this.seenIds);
    // A continued run knows who answered last from its window (only operators read it: no command depends on it).
    const newest = this.window.at(-1)?.reply;
    if (newest) this.lastModel = `${newest.provider}/${newest.model}`;
  }

  /** Queues a message unless its id was seen before (a redelivery) or it is not a message at all. */
  acceptMessage(message: InboundMessage): 'accepted' | 'duplicate' | 'malformed' {
    this.signalsThisRun++;
    // Signals are not validated by the server: a malformed one must not break the workflow task.
    if (typeof message?.messageId !== 'string' || typeof message.text !== 'string') {
      this.counters.malformedIgnored++;
      return 'malformed';
    }
    if (this.seen.has(message.messageId)) {
      this.counters.duplicatesIgnored++;
      return 'duplicate';
    }
    this.remember(message.messageId);
    this.counters.messagesReceived++;
    this.inbox.push({ kind: 'message', message });
    return 'accepted';
  }

  /** Queues a reset unless its request id was seen before (a redelivered `/reset` resets once). */
  acceptReset(requestId: string): 'accepted' | 'duplicate' | 'malformed' {
    this.signalsThisRun++;
    if (typeof requestId !== 'string') {
      this.counters.malformedIgnored++;
      return 'malformed';
    }
    if (this.seen.has(requestId)) {
      this.counters.duplicatesIgnored++;
      return 'duplicate';
    }
    this.remember(requestId);
    this.inbox.push({ kind: 'reset', requestId });
    return 'accepted';
  }

  hasWork(): boolean {
    return this.inbox.length > 0;
  }

  pendingCount(): number {
    return this.inbox.filter((item) => item.kind === 'message').length;
  }

  /**
   * Takes the next unit of work in arrival order: a reset, or the messages queued before the next reset
   * (coalescing: one turn answers all of them, up to maxMessagesPerTurn and turnTextBudgetBytes of text; the first
   * message is always taken, however large).
   */
  takeNext(): NextWork {
    const first = this.inbox[0];
    if (!first) return { kind: 'none' };
    if (first.kind === 'reset') {
      this.inbox.shift();
      return { kind: 'reset' };
    }
    const messages: InboundMessage[] = [];
    let bytes = 0;
    for (const item of this.inbox) {
      if (item.kind === 'reset' || messages.length === maxMessagesPerTurn) break;
      bytes += textBytes(item.message);
      if (this.budgeted && messages.length > 0 && bytes > turnTextBudgetBytes) break;
      messages.push(item.message);
    }
    this.inbox.splice(0, messages.length);
    return { kind: 'turn', messages };
  }

  /** A fresh context: summary and window are cleared; history stays archived, dedupe memory stays. */
  reset(): void {
    this.summary = '';
    this.window = [];
    this.counters.resets++;
  }

  recordTurn(messages: InboundMessage[], reply: Reply): Turn {
    const turn: Turn = { number: ++this.turnCount, messages, reply };
    // An apology is not conversation: the model should not see it as something it said.
    if (reply.kind === 'answer') this.window.push(turn);
    this.unarchived.push(turn);
    this.turnsThisRun++;
    this.counters.replies++;
    if (reply.kind === 'apology') this.counters.apologies++;
    else this.lastModel = `${reply.provider}/${reply.model}`;
    return turn;
  }

  /**
   * The oldest turns to fold into the summary so summary + window fit the token budget, and the window fits
   * windowBudgetBytes (the newest turn stays).
   */
  turnsToFold(): Turn[] {
    const budget = this.settings.contextTokenBudget;
    let total = estimateTokens(this.summary) + this.window.reduce((sum, t) => sum + estimateTurnTokens(t), 0);
    let bytes = this.budgeted ? this.window.reduce((sum, t) => sum + encodedBytes(t), 0) : 0;
    let count = 0;
    while ((total > budget || bytes > windowBudgetBytes) && count < this.window.length - 1) {
      total -= estimateTurnTokens(this.window[count]!);
      if (this.budgeted) bytes -= encodedBytes(this.window[count]!);
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

  archiveDue(): boolean {
    if (this.unarchived.length >= this.settings.archiveEveryTurns) return true;
    if (this.budgeted) return encodedBytes(this.unarchived) >= unarchivedBudgetBytes;
    const chars = this.unarchived.reduce((sum, t) => sum + t.reply.text.length + t.messages.reduce((n, m) => n + m.text.length, 0), 0);
    return chars >= maxUnarchivedChars;
  }

  /**
   * The unarchived turns the next segment takes: all of them, or (budgeted) as many as fit the payload budget
   * beside `segmentBaseBytes` (the segment without turns: ids and the context), at least one.
   */
  nextSegmentTurns(segmentBaseBytes: number): Turn[] {
    if (!this.budgeted) return this.unarchived;
    let bytes = segmentBaseBytes;
    let count = 0;
    for (const turn of this.unarchived) {
      bytes += encodedBytes(turn);
      if (count > 0 && bytes > payloadBudgetBytes) break;
      count++;
    }
    return this.unarchived.slice(0, count);
  }

  markArchived(throughTurn: number): void {
    this.unarchived = this.unarchived.filter((turn) => turn.number > throughTurn);
  }

  /** Restores what an earlier run saved; messages already answered then are dropped as duplicates. */
  restore(snapshot: ContextSnapshot): void {
    this.summary = snapshot.summary;
    this.window = snapshot.window;
    this.turnCount = Math.max(this.turnCount, snapshot.turnCount);
    for (const [name, value] of Object.entries(snapshot.counters ?? {})) {
      this.counters[name as keyof ConversationCounters] += value;
    }
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
      counters: this.counters,
      savedAt: savedAt.toISOString(),
    };
  }

  /** The context snapshot plus what only a running conversation has: queued messages and unarchived turns. */
  carry(): CarriedState {
    const { savedAt: _, ...context } = this.contextSnapshot(new Date(0));
    return { ...context, counters: this.counters, inbox: this.inbox, unarchived: this.unarchived };
  }

  /**
   * The part of the carried state to store by reference (a copy: what arrives later stays in the inbox), or
   * undefined when the whole carried state fits the payload budget inline.
   */
  stashable(): StashedState | undefined {
    if (!this.budgeted || (this.inbox.length === 0 && this.unarchived.length === 0)) return undefined;
    const stash = { inbox: [...this.inbox], unarchived: [...this.unarchived] };
    const fits = encodedBytes(stash) <= carriedInlineMaxBytes && encodedBytes(this.carry()) <= payloadBudgetBytes - carriedMarginBytes;
    return fits ? undefined : stash;
  }

  /** The carried state once `stash` is stored in `parts`: only what arrived after the stash was taken stays inline. */
  carryStashed(stash: StashedState, parts: TextRef[]): CarriedState {
    const carried = this.carry();
    return {
      ...carried,
      inbox: carried.inbox.slice(stash.inbox.length),
      unarchived: carried.unarchived.slice(stash.unarchived.length),
      stashed: parts,
    };
  }

  /** Puts back what the previous run stored by reference, before anything this run has received since. */
  unstash(stashed: StashedState): void {
    this.inbox = [...stashed.inbox, ...this.inbox];
    this.unarchived = [...stashed.unarchived, ...this.unarchived];
  }

  /** Storing the carried state failed: keep running, and try continuing as new again after `untilMs`. */
  postponeContinueAsNew(untilMs: number): void {
    this.continueAsNewAfterMs = untilMs;
  }

  /**
   * @param run what the server says about this run: its suggestion, history size in bytes, and the workflow time.
   */
  shouldContinueAsNew(run: { suggested: boolean; historyBytes: number; nowMs: number }): boolean {
    if (this.budgeted && run.nowMs < this.continueAsNewAfterMs) return false;
    return (
      run.suggested ||
      (this.budgeted && run.historyBytes >= historyBytesPerRun) ||
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
      ...(this.lastModel ? { lastModel: this.lastModel } : {}),
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
