/**
 * What edges do with conversations, in one place: build start options, deliver a message or a reset with
 * signal-with-start, and ask a conversation for its snapshot. Edges never start workflows any other way.
 * A message is admitted to the conversation's queue (or refused when it is full) and a large text is stored by
 * reference before the signal is sent, so nothing the engine could not hold is ever accepted.
 */
import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import {
  conversationWorkflowType,
  messageSignal,
  resetSignal,
  searchAttributeKeys,
  snapshotQuery,
  type Channel,
  type ConversationSnapshot,
  type ConversationWorkflow,
  type InboundMessage,
  type ResetRequest,
} from '../workflows/messages';
import { textBytes } from '../workflows/payload-budget';
import { conversationSettings, type AppConfig } from './config';
import type { ConversationStore } from './conversation-store';
import { QueueFullError } from './errors';
import type { Metrics } from './metrics';
import type { TextStore } from './text-store';

export type ConversationRunState = 'running' | 'closed' | 'unknown';

/** Who a conversation is with, as an edge knows it: what the Temporal UI shows and filters by. */
export interface ConversationRef {
  /** The workflow id, `<channel>:<external id>`. */
  id: string;
  channel: Channel;
  user: string;
  /** A human title for the UI, e.g. `API conversation "demo" with alice`. */
  title: string;
}

/** What a message needs before its signal: a place in the queue, and the archive for a large text. */
export interface Intake {
  queue: Pick<ConversationStore, 'enterQueue' | 'leaveQueue'>;
  texts: Pick<TextStore, 'offload'>;
  /** Counts messages by channel and outcome. */
  metrics?: Metrics['intake'];
}

/** Temporal calls from an edge give up after this long (→ 503), instead of hanging while Temporal is down. */
const callTimeoutMs = 5000;
/** What a refused sender is told to wait: about the time a turn or two takes. */
const queueFullRetryAfterSeconds = 10;

export class Conversations {
  constructor(
    private readonly client: Client,
    private readonly config: AppConfig,
    private readonly intake: Intake,
  ) {}

  /**
   * Delivers one message; starts the conversation (or a new run after an idle close) when needed.
   * @throws QueueFullError when the conversation has as many messages waiting as it may (nothing was sent).
   */
  async send(conversation: ConversationRef, message: InboundMessage): Promise<void> {
    const { queue, texts } = this.intake;
    const { maxQueuedMessages: maxMessages, maxQueuedBytes: maxBytes } = this.config.conversation;
    const entered = await queue.enterQueue(conversation.id, message.messageId, textBytes(message), { maxMessages, maxBytes });
    const outcome = entered === 'full' ? 'queue_full' : entered === 'seen' ? 'repeated' : 'accepted';
    this.intake.metrics?.messages.inc({ channel: conversation.channel, outcome });
    if (entered === 'full') throw new QueueFullError(conversation.id, queueFullRetryAfterSeconds);
    try {
      const carried = await texts.offload(conversation.id, message);
      await this.bounded(() =>
        this.client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(conversationWorkflowType, {
          ...this.startOptions(conversation),
          signal: messageSignal,
          signalArgs: [carried],
        }),
      );
    } catch (error) {
      // Not sent, so not waiting: give the place back (best effort; an entry left behind goes stale in an hour).
      if (entered === 'admitted') await queue.leaveQueue(conversation.id, message.messageId).catch(() => undefined);
      throw error;
    }
  }

  async reset(conversation: ConversationRef, requestId: string): Promise<void> {
    await this.bounded(() =>
      this.client.workflow.signalWithStart<ConversationWorkflow, [ResetRequest]>(conversationWorkflowType, {
        ...this.startOptions(conversation),
        signal: resetSignal,
        signalArgs: [{ requestId }],
      }),
    );
  }

  async runState(conversationId: string): Promise<ConversationRunState> {
    try {
      const description = await this.bounded(() => this.client.workflow.getHandle(conversationId).describe());
      return description.status.name === 'RUNNING' ? 'running' : 'closed';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'unknown';
      throw error;
    }
  }

  /**
   * Ends the conversation's run (if one runs) and deletes the histories of all its runs from Temporal. Returns how
   * many runs it deleted; Temporal removes their histories in the background.
   */
  async delete(conversationId: string, reason: string): Promise<number> {
    await this.bounded(() => this.client.workflow.getHandle(conversationId).terminate(reason)).catch((error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    });
    let deleted = 0;
    for await (const run of this.client.workflow.list({ query: `WorkflowId = '${conversationId.replaceAll("'", "\\'")}'` })) {
      const { namespace } = this.client.options;
      await this.bounded(() =>
        this.client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: run.workflowId, runId: run.runId } }),
      );
      deleted += 1;
    }
    return deleted;
  }

  /** The live snapshot of a running conversation. */
  async snapshot(conversationId: string): Promise<ConversationSnapshot> {
    return this.bounded(() => this.client.workflow.getHandle(conversationId).query(snapshotQuery));
  }

  private bounded<T>(call: () => Promise<T>): Promise<T> {
    return this.client.connection.withDeadline(Date.now() + callTimeoutMs, call);
  }

  /** The one place start options are built. */
  private startOptions(conversation: ConversationRef): Omit<WorkflowStartOptions<ConversationWorkflow>, 'signal' | 'signalArgs'> {
    const { id, channel, user, title } = conversation;
    const keys = searchAttributeKeys;
    return {
      taskQueue: this.config.temporal.taskQueue,
      workflowId: id,
      args: [{ conversationId: id, channel, settings: conversationSettings(this.config) }],
      // A conversation id is reused after every idle close: each new message may start a new run.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: title,
      typedSearchAttributes: [
        { key: keys.channel, value: channel },
        { key: keys.user, value: user },
        { key: keys.status, value: 'waiting' },
        { key: keys.turns, value: 0 },
        { key: keys.lastActiveAt, value: new Date() },
      ],
    };
  }
}
