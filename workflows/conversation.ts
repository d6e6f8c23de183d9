/**
 * The conversation workflow: one long-lived run per conversation (continued as new when its history grows).
 * It owns the inbox, dedupe memory and context window; every side effect is an activity.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bestEffort, durableWrite, modelCall } from './activity-options';
import { ConversationState } from './conversation-state';
import type { ContextSnapshot, ConversationInput, InboundMessage, Reply } from './messages';
import { messageSignal, resetSignal, snapshotQuery } from './messages';

const model = proxyActivities<Activities>(modelCall);
const durable = proxyActivities<Activities>(durableWrite);
const quick = proxyActivities<Activities>(bestEffort);

export const apologyText =
  "Sorry, I can't reach the language model right now. Please send your message again in a little while.";

export async function conversation(input: ConversationInput): Promise<void> {
  const { conversationId, channel, settings } = input;
  const state = new ConversationState(settings, input.carried);
  setHandler(messageSignal, (message) => {
    state.acceptMessage(message);
  });
  setHandler(resetSignal, (request) => state.acceptReset(request.requestId));
  setHandler(snapshotQuery, () => state.snapshot(conversationId));

  if (!input.carried) await restoreContext();

  for (;;) {
    const active = await condition(() => state.hasWork(), settings.idleTimeoutMs);
    if (!active) {
      state.status = 'closing';
      await archive(durable);
      await saveContext();
      // Safe only because handlers are synchronous: a message that arrived while closing is in the inbox now.
      if (state.hasWork()) continue;
      await condition(allHandlersFinished);
      return;
    }

    const work = state.takeNext();
    if (work.kind === 'reset') state.reset();
    if (work.kind === 'turn') await runTurn(work.messages);

    if (state.unarchived.length >= settings.archiveEveryTurns) await archive(quick);
    if (state.shouldContinueAsNew(workflowInfo().continueAsNewSuggested)) {
      await condition(allHandlersFinished);
      await archive(durable);
      await continueAsNew<typeof conversation>({ ...input, carried: state.carry() });
    }
  }

  async function runTurn(messages: InboundMessage[]): Promise<void> {
    state.status = 'thinking';
    const reply = await answer(messages);
    state.recordTurn(messages, reply);
    await durable.deliverReply({ channel, conversationId, reply });
    await foldContext();
    state.status = 'waiting';
  }

  async function answer(messages: InboundMessage[]): Promise<Reply> {
    const replyId = uuid4();
    const inReplyTo = messages.map((m) => m.messageId);
    const createdAt = () => new Date().toISOString();
    try {
      const result = await model.generateReply({
        conversationId,
        replyId,
        systemPrompt: settings.systemPrompt,
        summary: state.summary,
        window: state.window,
        messages,
      });
      return { replyId, inReplyTo, ...result, kind: 'answer', createdAt: createdAt() };
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      log.warn('model failed for good; sending an apology', { replyId, cause: error.cause?.message });
      const usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
      return { replyId, inReplyTo, text: apologyText, provider: 'none', model: 'none', usage, kind: 'apology', createdAt: createdAt() };
    }
  }

  async function foldContext(): Promise<void> {
    const folded = state.turnsToFold();
    if (folded.length === 0) return;
    try {
      const { summary } = await model.summarize({
        previousSummary: state.summary,
        turns: folded,
        maxTokens: settings.summaryMaxTokens,
      });
      state.applySummary(summary, folded.length);
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // The turns are in the archive; losing them from the context beats exceeding the model's window.
      log.warn('summarize failed; dropping oldest turns from the context', { dropped: folded.length });
      state.dropFromWindow(folded.length);
    }
  }

  async function archive(activities: typeof durable): Promise<void> {
    const turns = state.unarchived;
    if (turns.length === 0) return;
    try {
      await activities.archiveTurns({
        conversationId,
        firstTurn: turns[0]!.number,
        turns,
        context: state.contextSnapshot(new Date()),
      });
      state.markArchived(turns[turns.length - 1]!.number);
    } catch (error) {
      if (!(error instanceof ActivityFailure) || activities === durable) throw error;
      log.warn('archive unavailable; will retry at the next flush', { unarchived: turns.length });
    }
  }

  async function saveContext(): Promise<void> {
    try {
      await quick.saveContext(conversationId, state.contextSnapshot(new Date()));
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // The archive segment written just before holds the same context; restore falls back to it.
      log.warn('could not save the context snapshot to the cache');
    }
  }

  /**
   * Restores the newest of the Redis snapshot and the archive's last context. Both are read because a
   * snapshot save can fail after the archive write succeeded; restoring a stale one would reuse turn numbers.
   * The archive read is durable: starting from an empty context by mistake would do the same.
   */
  async function restoreContext(): Promise<void> {
    const cached = await attempt(() => quick.loadContext(conversationId));
    const archived = await durable.loadArchivedContext(conversationId);
    const newest = [cached, archived]
      .filter((s): s is ContextSnapshot => s !== null)
      .sort((a, b) => b.turnCount - a.turnCount || b.savedAt.localeCompare(a.savedAt))[0];
    if (newest) state.restore(newest);
  }
}

/** Runs a best-effort activity; null when it failed for good (the caller has a fallback). */
async function attempt<T>(call: () => Promise<T | null>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('best-effort activity failed', { cause: error.cause?.message });
    return null;
  }
}
