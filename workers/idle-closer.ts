/**
 * The idle closer: asks conversations idle for their timeout to close, at a bounded pace.
 *
 * A checkpointed conversation keeps no idle timer of its own (workflows/conversation.ts). With one, a downtime
 * longer than the idle timeout makes every such timer fire at the restart: each is a workflow task (a replay, the
 * worker's cache being empty) in the queue new messages wait in, and they wait for all of them. Instead each worker
 * asks Temporal's visibility store, once a second, for the running conversations on its queue whose last activity
 * is older than the idle timeout, and signals at most `perSecond` of them (a Redis claim keeps two workers, or two
 * rounds, from asking the same one). A conversation busy again by then ignores the request; one that is not
 * checkpointed (its archive was down) closes on its own timer anyway. Visibility's last activity can be up to a
 * quiet period later than the conversation's own: it closes up to that much after its timeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ConversationStore } from '../lib/conversation-store';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { quoted } from '../lib/visibility-query';
import { conversationWorkflowType, idleCloseSignal, searchAttributeKeys as keys } from '../workflows/messages';

const roundMs = 1_000;
/** Long enough for a requested close to show in visibility, even with a backlog of them in the queue. */
const claimMs = 5 * 60_000;
/** Runs looked at per round, asked or not (already claimed, or a run that stays open: its archive is down). */
const scanPerAsk = 5;

export interface IdleCloserOptions {
  client: Client;
  claims: Pick<ConversationStore, 'claimIdleClose'>;
  /** The conversations' queue: parked runs (another queue) close on their own timers. */
  taskQueue: string;
  idleTimeoutMs: number;
  perSecond: number;
  logger: Logger;
  metrics: Metrics['idleCloser'];
}

export function startIdleCloser(options: IdleCloserOptions): { stop(): Promise<void> } {
  const stopped = new AbortController();
  let failing = false;
  const rounds = (async () => {
    while (!stopped.signal.aborted) {
      const startedAt = Date.now();
      try {
        const asked = await askDue(options);
        options.metrics.rounds.inc({ outcome: 'ok' });
        options.metrics.requests.inc(asked);
        if (asked > 0) options.logger.debug({ asked }, 'idle closer: asked idle conversations to close');
        if (failing) options.logger.info('idle closer: working again');
        failing = false;
      } catch (error) {
        options.metrics.rounds.inc({ outcome: 'failed' });
        if (!failing) options.logger.warn({ err: error }, 'idle closer: listing or asking idle conversations failed; trying again every second');
        failing = true;
      }
      await sleep(Math.max(0, roundMs - (Date.now() - startedAt)), undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await rounds;
    },
  };
}

/** One round: the number of conversations asked. */
async function askDue({ client, claims, taskQueue, idleTimeoutMs, perSecond }: IdleCloserOptions): Promise<number> {
  const idleSince = new Date(Date.now() - idleTimeoutMs).toISOString();
  const query =
    `WorkflowType = ${quoted(conversationWorkflowType)} AND ExecutionStatus = 'Running' AND TaskQueue = ${quoted(taskQueue)}` +
    ` AND ${keys.status.name} = 'waiting' AND ${keys.lastActiveAt.name} < ${quoted(idleSince)}`;
  const scanLimit = perSecond * scanPerAsk;
  let asked = 0;
  let seen = 0;
  for await (const run of client.workflow.list({ query, pageSize: Math.min(scanLimit, 1000) })) {
    if (asked >= perSecond || ++seen > scanLimit) break;
    if (!(await claims.claimIdleClose(run.workflowId, claimMs))) continue;
    try {
      await client.workflow.getHandle(run.workflowId, run.runId).signal(idleCloseSignal);
      asked++;
    } catch (error) {
      // Closed meanwhile (visibility lags behind): nothing to ask.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return asked;
}
