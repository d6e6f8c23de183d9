/**
 * The conversation workflow: one long-lived run per conversation (continued as new when its history grows).
 * It owns the inbox, dedupe memory and context window; every side effect is an activity.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bestEffort, durableWrite, localRead, modelCall } from './activity-options';
import { changesOfThisRun } from './changes';
import { conversationMetrics } from './conversation-metrics';
import { ConversationState } from './conversation-state';
import { deliveryFor } from './delivery';
import { defaultQuietPeriodMs, OperatorView } from './operator-view';
import type { ContextTurn, ConversationInput, InboundMessage, Reply, StashedState, TextRef } from './messages';
import { contextTurns, idleCloseSignal, messageSignal, newestContext, resetSignal, snapshotQuery } from './messages';
import { parkedTaskQueue } from './parking';
import { encodedBytes } from './payload-budget';
import { splitForStash } from './stash-parts';

// One proxy per options group, each typed to the activities that belong in it.
const model = proxyActivities<Pick<Activities, 'generateReply' | 'summarize'>>(modelCall);
const local = proxyLocalActivities<Pick<Activities, 'restoreContext'>>(localRead);
const durable = proxyActivities<Pick<Activities, 'deliverReply' | 'loadArchivedContext' | 'loadText' | 'restoreContext'>>(durableWrite);
const quick = proxyActivities<
  Pick<Activities, 'saveContext' | 'loadContext' | 'loadArchivedContext' | 'archiveTurns' | 'storeText'>
>(bestEffort);

/** After storing the carried state failed (the archive is down), continue as new again after this long. */
const stashRetryMs = 60_000;
/** A turn whose texts the archive could not serve (after the model activity's own retries) is asked again after this. */
const archiveRetryMs = 15_000;

export const apologyText =
  "Sorry, I can't reach the language model right now. Please send your message again in a little while.";

export async function conversation(input: ConversationInput): Promise<void> {
  const { conversationId, channel, settings } = input;
  // Before any other command: which of the workflow's changes this run has (workflows/changes.ts).
  const changes = changesOfThisRun();
  const { has } = changes;
  // Runs recorded before the byte budget replay without it (see ConversationState).
  const budgeted = has('payload-budget');
  const state = new ConversationState(settings, input.carried, budgeted);
  const quietPeriodMs = settings.quietPeriodMs ?? defaultQuietPeriodMs;
  // The edge starts a run with status waiting and no turns; a continued run inherits what the last one wrote.
  const view = has('throttled-search-attributes')
    ? new OperatorView(has, quietPeriodMs, { status: 'waiting', turns: input.carried?.turnCount ?? 0, atMs: Date.now() })
    : new OperatorView(has, undefined);
  // A conversation quiet for a while is checkpointed (archive and Redis context up to date), so that its idle close
  // writes nothing: after downtime, thousands of closes are due at once. Runs recorded before write at the close.
  const checkpoints = has('quiet-checkpoint');
  /** When the next checkpoint is due; undefined when nothing happened since the last one. */
  let checkpointAt: number | undefined;
  const closeNeedsWrites = () => !checkpoints || checkpointAt !== undefined || state.unarchived.length > 0;
  const showOperators = (status?: Parameters<OperatorView['show']>[1]) => view.show(state, status);
  // What the channel shows beside the event stream (Telegram: a live preview, then the final message).
  const delivery = deliveryFor(channel, { conversationId, taskQueue: workflowInfo().taskQueue });
  const metrics = conversationMetrics(channel);
  const ignored = (outcome: 'accepted' | 'duplicate' | 'malformed', what: string) => {
    if (outcome === 'duplicate') metrics.count('duplicate_ignored');
    if (outcome !== 'malformed') return;
    metrics.count('malformed_ignored');
    log.warn(`ignored a malformed ${what} signal`);
  };
  setHandler(messageSignal, (message) => ignored(state.acceptMessage(message), 'message'));
  setHandler(resetSignal, (request) => ignored(state.acceptReset(request?.requestId), 'reset'));
  setHandler(snapshotQuery, () => state.snapshot(conversationId));
  /** The idle closer asked this run to close; cleared when a quiet period begins (a request from before is stale). */
  let closeRequested = false;
  setHandler(idleCloseSignal, () => {
    closeRequested = true;
  });

  const runShouldEnd = () => {
    const info = workflowInfo();
    return state.shouldContinueAsNew({ suggested: info.continueAsNewSuggested, historyBytes: info.historySize, nowMs: Date.now() });
  };
  try {
    if (input.parked) return await waitParked(input.parked);
    if (!input.carried) await restoreContext();
    if (input.carried?.stashed) state.unstash(await loadStash(input.carried.stashed));
    showOperators();
    await converse();
  } catch (error) {
    // An operator cancelled the conversation: keep its last turns in the archive before the run ends.
    if (isCancellation(error)) await CancellationScope.nonCancellable(() => archive());
    throw error;
  }

  async function converse(): Promise<void> {
    for (;;) {
      const active = await waitForWork();
      if (!active) {
        state.status = 'closing';
        showOperators();
        const archived = closeNeedsWrites() ? await persistContext() : true;
        // Safe only because handlers are synchronous: a message that arrived while closing is in the inbox now.
        // Without an archive the run stays open (nothing is lost) and tries again after the next idle period.
        if (archived && !state.hasWork()) {
          await condition(allHandlersFinished);
          showOperators('closed');
          metrics.count('idle_closed');
          return;
        }
        state.status = 'waiting';
        showOperators();
        continue;
      }

      const work = state.takeNext();
      if (work.kind === 'turn') metrics.queued(state.pendingCount());
      if (work.kind === 'reset') state.reset();
      if (work.kind === 'turn') await runTurn(work.messages);
      if (checkpoints) checkpointAt = Date.now() + quietPeriodMs;

      if (state.archiveDue()) await archive();
      if (runShouldEnd()) {
        await condition(allHandlersFinished);
        // Turns the archive did not take now are carried to the next run, which archives them.
        await archive();
        await continueAsNewWithinBudget();
      }
    }
  }

  /**
   * Waits for a message (true) or the idle timeout (false). Meanwhile, on the same timer (a busy conversation pays
   * for one timer per turn, as before): the checkpoint once the conversation has been quiet, which also writes the
   * search attributes the operator view owes, or else those attributes when they fall due. Once checkpointed (and
   * not parking), the idle timeout is noticed by the workers' idle closer (workers/idle-closer.ts), not a timer.
   */
  async function waitForWork(): Promise<boolean> {
    const quietSince = Date.now();
    const idleAt = quietSince + settings.idleTimeoutMs;
    /** When this quiet, checkpointed run parks; undefined until it is checkpointed. */
    let parkAt: number | undefined;
    /** Checkpointed and not parking: the idle close waits for the idle closer's request, not for a timer. */
    let leftToCloser = false;
    closeRequested = false;
    for (;;) {
      const wakeAt = checkpointAt ?? parkAt ?? view.refreshDueAt(state);
      // A request arms the idle timer: closing at once when the timeout has passed, else when it does.
      const closeAt = leftToCloser && !closeRequested ? undefined : idleAt;
      const until = wakeAt !== undefined && (closeAt === undefined || wakeAt < closeAt) ? wakeAt : closeAt;
      const asked = () => closeAt === undefined && closeRequested;
      // Waking on runShouldEnd too: a flood of duplicate signals creates no work but still fills the history.
      const busy = () => state.hasWork() || runShouldEnd();
      if (await wakeUp(() => busy() || asked(), until)) {
        if (busy()) return true;
        if (Date.now() >= idleAt) return false;
        continue;
      }
      if (until === idleAt) return false;
      if (until === parkAt) await park(idleAt);
      if (checkpointAt !== undefined) {
        await checkpoint();
        // Checkpointed and still quiet: park once quiet for parkAfterMs (runs recorded before waited here).
        if (checkpointAt === undefined && !state.hasWork() && has('park-quiet-runs')) {
          parkAt = quietSince + (settings.parkAfterMs ?? 0);
          if (parkAt <= Date.now()) await park(idleAt);
          // Not parking before the idle close (parking off): no timer, so a long downtime leaves no line of closes
          // in front of new messages; the idle closer asks at a rate the server can take. Runs recorded before
          // waited for their timer.
          if (parkAt >= idleAt && has('idle-closer')) {
            parkAt = undefined;
            leftToCloser = true;
          }
        }
      }
      showOperators();
    }
  }

  /** Continues as new on the parked queue (workflows/parking.ts), to close at `idleAt` unless a message comes. */
  async function park(idleAt: number): Promise<never> {
    await condition(allHandlersFinished);
    view.flush(state);
    metrics.count('parked');
    const { taskQueue } = workflowInfo();
    const { carried: _, ...rest } = input;
    return makeContinueAsNewFunc<typeof conversation>({ taskQueue: parkedTaskQueue(taskQueue) })({
      ...rest,
      carried: state.carry(),
      parked: { taskQueue, idleAt },
    });
  }

  /**
   * A parked run: waits for work until its idle close. Work (or a run too long) sends it back, as new, to the
   * conversations' queue with everything that arrived; the idle close has nothing left to write (checkpointed).
   */
  async function waitParked({ taskQueue, idleAt }: NonNullable<ConversationInput['parked']>): Promise<void> {
    showOperators();
    const woken = await condition(() => state.hasWork() || runShouldEnd(), Math.max(1, idleAt - Date.now()));
    await condition(allHandlersFinished);
    if (!woken) {
      showOperators('closed');
      metrics.count('idle_closed');
      return;
    }
    const { parked: _, carried: __, ...rest } = input;
    await makeContinueAsNewFunc<typeof conversation>({ taskQueue })({ ...rest, carried: state.carry() });
  }

  /** Archives the turns left and saves the context to Redis; when the archive is down, again after another quiet period. */
  async function checkpoint(): Promise<void> {
    if (await persistContext()) {
      checkpointAt = undefined;
      view.flush(state);
    } else {
      checkpointAt = Date.now() + quietPeriodMs;
    }
  }

  /**
   * Continues as new, carrying a large inbox and unarchived turns by reference. When they cannot be stored (the
   * archive is down) the run goes on and tries again later: a larger history beats an input the server rejects.
   */
  async function continueAsNewWithinBudget(): Promise<void> {
    const stash = state.stashable();
    const stashed = stash ? await storeStash(stash) : undefined;
    if (stash && !stashed) {
      state.postponeContinueAsNew(Date.now() + stashRetryMs);
      state.lastProblem = 'the archive is unavailable; continuing as new waits until the queued messages can be stored';
      return;
    }
    // Messages that arrived while the stash was stored are not in it: they stay inline, after it.
    const carried = stash && stashed ? state.carryStashed(stash, stashed) : state.carry();
    // The next run inherits the search attributes: none may lag behind.
    view.flush(state);
    metrics.count('continued_as_new');
    await continueAsNew<typeof conversation>({ ...input, carried });
  }

  /** Stores inbox and unarchived turns in parts that each fit the payload budget; undefined when storing failed. */
  async function storeStash(stash: StashedState): Promise<TextRef[] | undefined> {
    const parts = splitForStash(JSON.stringify(stash));
    const refs: TextRef[] = [];
    for (const [i, part] of parts.entries()) {
      const summary = `store the queued messages for the next run (part ${i + 1} of ${parts.length})`;
      const ref = await bestEffortCall(() => quick.storeText.executeWithOptions({ summary }, [conversationId, part]));
      if (!ref) return undefined;
      refs.push(ref);
    }
    return refs;
  }

  async function loadStash(refs: TextRef[]): Promise<StashedState> {
    const parts: string[] = [];
    for (const [i, ref] of refs.entries()) {
      const summary = `load the queued messages of the previous run (part ${i + 1} of ${refs.length})`;
      parts.push(await durable.loadText.executeWithOptions({ summary }, [ref]));
    }
    return JSON.parse(parts.join('')) as StashedState;
  }

  async function runTurn(messages: InboundMessage[]): Promise<void> {
    state.status = 'thinking';
    showOperators();
    const replyId = uuid4();
    delivery.preview?.(replyId);
    // The model activity publishes its own answer: one activity and one workflow task less per turn.
    const modelPublishes = has('model-publishes-reply');
    const reply = await answer(messages, replyId, modelPublishes);
    state.recordTurn(messages, reply);
    // Every channel's replies go on the event stream: the history and SSE APIs read them from there.
    if (!modelPublishes || reply.kind === 'apology') {
      await durable.deliverReply.executeWithOptions({ summary: `deliver the reply to turn ${state.turnCount}` }, [
        { channel, conversationId, reply },
      ]);
    }
    if (delivery.deliver) {
      const refused = await delivery.deliver(reply, state.turnCount);
      if (refused) state.lastProblem = refused;
    }
    await foldContext();
    state.status = 'waiting';
    showOperators();
  }

  async function answer(messages: InboundMessage[], replyId: string, modelPublishes: boolean): Promise<Reply> {
    const inReplyTo = messages.map((m) => m.messageId);
    let attemptsBefore = 0;
    const ask = (window: ContextTurn[]) =>
      model.generateReply.executeWithOptions({ summary: `reply to ${plural(messages.length, 'message')}` }, [
        {
          conversationId, replyId, systemPrompt: settings.systemPrompt, summary: state.summary, window, messages,
          ...(attemptsBefore > 0 ? { attemptsBefore } : {}),
          ...(modelPublishes ? { publish: { inReplyTo } } : {}),
        },
      ]);
    for (;;) {
      try {
        const result = await ask(contextTurns(state.window)).catch((error: unknown) => {
          // A provider that rejects the request may be refusing the context's size: try once with the summary only.
          if (!isFailure(error, 'ModelRequestRejected') || state.window.length === 0) throw error;
          log.warn('model rejected the request; retrying without the recent turns', { replyId });
          return ask([]);
        });
        const { createdAt = new Date().toISOString(), ...answered } = result;
        return { replyId, inReplyTo, ...answered, kind: 'answer', createdAt };
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        if (isFailure(error, 'ArchiveUnavailable')) {
          // Texts carried by reference cannot be read (or the reply stored): wait for the archive, no apology.
          state.lastProblem = `the archive is unavailable; turn ${state.turnCount + 1} waits for it`;
          showOperators();
          await sleep(archiveRetryMs);
          attemptsBefore += modelCall.retry?.maximumAttempts ?? 1;
          continue;
        }
        log.warn('model failed for good; sending an apology', { replyId, cause: error.cause?.message });
        state.lastProblem = `no model could answer turn ${state.turnCount + 1}; the user got an apology (${error.cause?.message})`;
        const usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
        const createdAt = new Date().toISOString();
        return { replyId, inReplyTo, text: apologyText, provider: 'none', model: 'none', usage, kind: 'apology', createdAt };
      }
    }
  }

  async function foldContext(): Promise<void> {
    const folded = state.turnsToFold();
    if (folded.length === 0) return;
    const summary = `fold turns ${folded[0]!.number}–${folded[folded.length - 1]!.number} into the summary`;
    const result = await bestEffortCall(() =>
      model.summarize.executeWithOptions({ summary }, [
        { previousSummary: state.summary, turns: contextTurns(folded), maxTokens: settings.summaryMaxTokens },
      ]),
    );
    if (result) state.applySummary(result.summary, folded.length);
    else {
      // The turns are archived; losing them from the context beats exceeding the model's window.
      state.dropFromWindow(folded.length);
      state.lastProblem = `summarizing failed; ${plural(folded.length, 'turn')} left the context unsummarized`;
    }
  }

  /**
   * Writes the unarchived turns as segments (one, unless they exceed the payload budget together). False when the
   * archive is unavailable (the turns not written stay queued).
   */
  async function archive(options: { saveContext?: boolean } = {}): Promise<boolean> {
    while (state.unarchived.length > 0) {
      const context = state.contextSnapshot(new Date());
      const first = state.unarchived[0]!.number;
      const turns = state.nextSegmentTurns(encodedBytes({ conversationId, firstTurn: first, turns: [], context }));
      const segment = { conversationId, firstTurn: first, turns, context };
      const last = turns[turns.length - 1]!.number;
      // The last segment's context is the one to save: the same activity saves it to Redis too.
      const alsoSave = options.saveContext && turns.length === state.unarchived.length;
      const summary = `archive turns ${segment.firstTurn}–${last}${alsoSave ? ' and save the context to Redis' : ''}`;
      const args: Parameters<Activities['archiveTurns']> = alsoSave ? [segment, { saveContext: true }] : [segment];
      const written = await bestEffortCall(() => quick.archiveTurns.executeWithOptions({ summary }, args).then(() => true));
      if (!written) {
        state.lastProblem = `the archive is unavailable; ${plural(state.unarchived.length, 'turn')} wait to be archived`;
        return false;
      }
      state.markArchived(last);
    }
    return true;
  }

  /**
   * Archives the turns left and saves the context to Redis (a checkpoint, or an idle close); false when the archive
   * is unavailable. One activity where it can be (two workflow tasks fewer per close: a restart after downtime closes
   * thousands at once); runs recorded before did it in two.
   */
  async function persistContext(): Promise<boolean> {
    if (!has('close-in-one-activity')) {
      const archived = await archive();
      if (archived) await saveContext();
      return archived;
    }
    if (state.unarchived.length > 0) return archive({ saveContext: true });
    await saveContext();
    return true;
  }

  async function saveContext(): Promise<void> {
    // On failure the archive segment written just before holds the same context; restore falls back to it.
    const snapshot = state.contextSnapshot(new Date());
    await bestEffortCall(() => quick.saveContext.executeWithOptions({ summary: 'save the context to Redis' }, [conversationId, snapshot]));
  }

  /**
   * Restores the newest of the Redis snapshot and the archive's last context, in one local activity (see
   * restoreContext in activities/context.ts, and localRead). Runs recorded before ran it as an activity of its own,
   * and before that as two: the Redis read best effort, then the archive read, durable when Redis had no snapshot.
   */
  async function restoreContext(): Promise<void> {
    if (changes.current || has('one-restore-activity')) {
      const restore = changes.current ? local.restoreContext : durable.restoreContext;
      const restored = await restore.executeWithOptions({ summary: 'restore the context (Redis, then the archive)' }, [conversationId]);
      if (restored) state.restore(restored);
      return;
    }
    const fromRedis = { summary: 'restore the context from Redis' };
    const fromArchive = { summary: 'restore the context from the archive' };
    const cached = await bestEffortCall(() => quick.loadContext.executeWithOptions(fromRedis, [conversationId]));
    const archived = cached
      ? await bestEffortCall(() => quick.loadArchivedContext.executeWithOptions(fromArchive, [conversationId]))
      : await durable.loadArchivedContext.executeWithOptions(fromArchive, [conversationId]);
    const newest = newestContext(cached, archived);
    if (newest) state.restore(newest);
  }
}

/** Waits for `ready` (true) or until the workflow time `until` (false); with no `until`, for `ready` alone. */
async function wakeUp(ready: () => boolean, until: number | undefined): Promise<boolean> {
  if (until !== undefined) return condition(ready, Math.max(1, until - Date.now()));
  await condition(ready);
  return true;
}

/** Runs an activity whose failure the caller can live with; undefined when it failed for good. */
async function bestEffortCall<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('activity failed; carrying on without it', { activity: error.activityType, cause: error.cause?.message });
    return undefined;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** An activity failure whose cause is an ApplicationFailure of `type`. */
function isFailure(error: unknown, type: string): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === type;
}
