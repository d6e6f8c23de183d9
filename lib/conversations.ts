/**
 * The one edge API every channel calls (REST, GraphQL, Socket.IO, Telegram): name a conversation and check who
 * may, send a message (idempotent by messageId, within the user's limits) and wait for its reply, read a snapshot
 * or the full history, follow its event stream, reset, delete, list a user's conversations. Edges only translate
 * their protocol into these calls; none starts a workflow or reads Redis or the archive on its own.
 * A message is admitted to the conversation's queue (or refused when it is full) and a large text is stored by
 * reference before the signal is sent, so nothing the engine could not hold is ever accepted.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import {
  conversationWorkflowType,
  messageSignal,
  resetSignal,
  searchAttributeKeys,
  snapshotQuery,
  type ConversationSnapshot,
  type ConversationWorkflow,
  type InboundMessage,
  type Reply,
  type ResetRequest,
} from '../workflows/messages';
import { textBytes } from '../workflows/payload-budget';
import type { AuditLog } from './audit-log';
import { hasRole } from './auth';
import { conversationSettings, type AppConfig } from './config';
import { addressConversation, type AddressOptions, type Caller, type ConversationRef } from './conversation-address';
import type { StoredEvent } from './conversation-events';
import { closedView, historyPage, mergeTurns, runningView, type ConversationView, type HistoryPage } from './conversation-history';
import { listConversations, type ConversationSummary } from './conversation-list';
import type { ConversationStore } from './conversation-store';
import { ForbiddenError, InvalidInputError, LimitExceededError, NotFoundError, OverloadedError, QueueFullError } from './errors';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { MessageLimits, StreamLeases } from './rate-limits';
import type { TextStore } from './text-store';
import type { TranscriptArchive } from './transcript-archive';
import type { WaitingRequests } from './waiting-requests';

export type { Caller, ConversationRef } from './conversation-address';
export type { ConversationView, HistoryItem, HistoryPage } from './conversation-history';
export type { ConversationSummary } from './conversation-list';

export type ConversationRunState = 'running' | 'closed' | 'unknown';

/**
 * A conversation's open event stream: batches of events after `after` (the event id it started after, also when
 * opened "from now": where a follower resumes if it gets no event before it drops); close() when done with it.
 */
export type EventFeed = AsyncGenerator<StoredEvent[]> & { after: string; close(): Promise<void> };

export type PostResult = { status: 'answered'; reply: Reply } | { status: 'queued'; after: string };

/** What the edge API works with; api/main.ts builds the real ones. */
export interface EdgeDeps {
  client: Client;
  config: AppConfig;
  /** The conversations' hot state in Redis: queue places, replies, events, stored contexts, titles. */
  store: Pick<
    ConversationStore,
    'enterQueue' | 'leaveQueue' | 'lastEventId' | 'findReply' | 'waitForReply' | 'readEvents' | 'loadContext' | 'forget' | 'setTitle' | 'titles'
  >;
  /** Texts carried by reference (large messages and replies). */
  texts: Pick<TextStore, 'offload' | 'resolveTurns' | 'forget'>;
  /** The cold archive of turns and contexts. */
  archive: Pick<TranscriptArchive, 'readTurns' | 'latestContext' | 'forget'>;
  /** Per-user limits shared through Redis, and this process's cap on waiting reads. */
  limits: { messages: MessageLimits; streams: StreamLeases; waiting: WaitingRequests };
  audit: Pick<AuditLog, 'record'>;
  /** Counts messages by channel and outcome. */
  metrics?: Metrics['intake'];
  logger: Logger;
}

/** Temporal calls from an edge give up after this long (→ 503), instead of hanging while Temporal is down. */
const callTimeoutMs = 5000;
/** What a refused sender is told to wait: about the time a turn or two takes. */
const queueFullRetryAfterSeconds = 10;
/** How long one blocking read of an event stream waits before it yields an empty batch (a keep-alive tick). */
const eventPollMs = 10_000;
/** The longest title a conversation gets from its first message. */
const titleChars = 80;

export class Conversations {
  constructor(private readonly deps: EdgeDeps) {}

  /** The conversation `name` means for `caller`, if they may do what needs `options.need` (not checked: existence). */
  address(caller: Caller, name: string, options: AddressOptions): ConversationRef {
    return addressConversation(caller, name, options, (by, action, target, outcome) => this.audit(by, action, target, outcome));
  }

  /**
   * Sends one message and, with `wait`, waits (bounded) for its reply. A messageId answered before returns that
   * reply at once, without a second turn.
   * @throws ForbiddenError (not the caller's conversation), InvalidInputError, LimitExceededError (rate limits),
   * QueueFullError: nothing was sent in these cases.
   */
  async post(caller: Caller, ref: ConversationRef, message: { text: string; messageId: string }, options: { wait: boolean }): Promise<PostResult> {
    const { store, limits, config, logger } = this.deps;
    // Nobody speaks in another user's conversation (or into a Telegram chat), whatever their role.
    if (ref.channel === 'telegram' || ref.user !== caller.principal.user) {
      this.audit(caller, 'role.denied', ref.id, 'denied');
      throw new ForbiddenError('Messages go to your own conversations only.');
    }
    this.validate(message);
    const { messageId, text } = message;
    // Read the stream position before anything else: a reply published after it is seen by the wait below,
    // one published before it is found in the reply index.
    const [after] = await Promise.all([store.lastEventId(ref.id), store.setTitle(ref.id, titleOf(text))]);
    const earlier = await store.findReply(ref.id, messageId);
    if (earlier) return { status: 'answered', reply: earlier };
    await limits.messages.within(caller.principal.user, ref.clientId, messageId, () =>
      this.send(ref, { messageId, text, receivedAt: new Date().toISOString() }),
    );
    // Past this process's cap on waiting requests the message is still taken: only the wait is skipped.
    if (!options.wait || !limits.waiting.tryEnter()) return { status: 'queued', after };
    // The message is accepted now: if waiting fails (Redis went away) the honest answer is "queued", not an error
    // that invites a retry without the messageId and so a second turn.
    const reply = await store
      .waitForReply(ref.id, messageId, after, config.api.chatWait)
      .catch((error: unknown) => {
        logger.warn({ conversationId: ref.id, messageId, error: (error as Error).message }, 'waiting for the reply failed; answering queued');
        return null;
      })
      .finally(() => limits.waiting.leave());
    return reply ? { status: 'answered', reply } : { status: 'queued', after };
  }

  /**
   * Delivers one message; starts the conversation (or a new run after an idle close) when needed. For edges that
   * check limits their own way (Telegram); others call post().
   * @throws QueueFullError when the conversation has as many messages waiting as it may (nothing was sent).
   */
  async send(conversation: ConversationRef, message: InboundMessage): Promise<void> {
    const { store, texts, metrics } = this.deps;
    const { maxQueuedMessages: maxMessages, maxQueuedBytes: maxBytes } = this.deps.config.conversation;
    const entered = await store.enterQueue(conversation.id, message.messageId, textBytes(message), { maxMessages, maxBytes });
    const outcome = entered === 'full' ? 'queue_full' : entered === 'seen' ? 'repeated' : 'accepted';
    metrics?.messages.inc({ channel: conversation.channel, outcome });
    if (entered === 'full') throw new QueueFullError(conversation.id, queueFullRetryAfterSeconds);
    try {
      const carried = await texts.offload(conversation.id, message);
      await this.bounded(() =>
        this.deps.client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(conversationWorkflowType, {
          ...this.startOptions(conversation),
          signal: messageSignal,
          signalArgs: [carried],
        }),
      );
    } catch (error) {
      // Not sent, so not waiting: give the place back (best effort; an entry left behind goes stale in an hour).
      if (entered === 'admitted') await store.leaveQueue(conversation.id, message.messageId).catch(() => undefined);
      throw error;
    }
  }

  /** Starts a fresh context (history stays archived); applies after the messages sent before it. Audited. */
  async reset(caller: Caller, ref: ConversationRef, requestId: string = randomUUID()): Promise<void> {
    await this.require(ref);
    await this.bounded(() =>
      this.deps.client.workflow.signalWithStart<ConversationWorkflow, [ResetRequest]>(conversationWorkflowType, {
        ...this.startOptions(ref),
        signal: resetSignal,
        signalArgs: [{ requestId }],
      }),
    );
    this.audit(caller, 'conversation.reset', ref.id, 'done');
  }

  /** What the conversation knows now: its live snapshot, or the view of a closed one. */
  async view(ref: ConversationRef): Promise<ConversationView> {
    const found = await this.find(ref);
    const view = found.state === 'running' ? runningView(found.snapshot) : closedView(ref.id, found.context);
    return { ...view, recentTurns: await this.deps.texts.resolveTurns(view.recentTurns) };
  }

  /** The full history, live and archived, oldest first, `limit` turns after turn `after`. */
  async history(ref: ConversationRef, page: { after: number; limit: number }): Promise<HistoryPage> {
    const found = await this.find(ref);
    const live = found.state === 'running' ? found.snapshot.unarchivedTurns : [];
    const { turns: archived } = await this.deps.archive.readTurns(ref.id, { afterTurn: page.after, limit: page.limit });
    const turns = await this.deps.texts.resolveTurns(mergeTurns(archived, live, page.after, page.limit));
    return historyPage(turns, page.limit);
  }

  /**
   * Opens the conversation's event stream (`token`, `restart`, `reply`; ids are Redis stream ids) after `after`
   * (default: from now on). Iterate it for batches of events; an empty batch means nothing new for a while (time
   * for a keep-alive). It holds one of the user's stream leases and a place among this process's waiting reads
   * until it is closed: by close(), by leaving the iteration, or by `signal`.
   * @throws NotFoundError, LimitExceededError (the user's streams) or OverloadedError (this process) instead.
   */
  async events(caller: Caller, ref: ConversationRef, options: { after?: string | undefined; signal?: AbortSignal } = {}): Promise<EventFeed> {
    const { store, limits, config } = this.deps;
    const { user } = caller.principal;
    await this.require(ref);
    const after = options.after ?? (await store.lastEventId(ref.id));
    let cursor = after;
    const lease = randomUUID();
    if (!(await limits.streams.hold(user, lease))) {
      throw new LimitExceededError(`You already have ${config.limits.streamsPerUser} event streams open, the most allowed; close one first.`, 10);
    }
    if (!limits.waiting.tryEnter()) {
      await limits.streams.release(user, lease);
      throw new OverloadedError('This server has as many open streams and waiting requests as it may; retry in a few seconds.');
    }
    let open = true;
    const close = async () => {
      if (!open) return;
      open = false;
      limits.waiting.leave();
      await limits.streams.release(user, lease).catch(() => undefined);
    };
    const ended = () => !open || options.signal?.aborted === true;
    async function* batches(): AsyncGenerator<StoredEvent[]> {
      try {
        while (!ended()) {
          const events = await store.readEvents(ref.id, cursor, { blockMs: eventPollMs, count: 100 });
          if (ended()) return;
          cursor = events.at(-1)?.id ?? cursor;
          yield events;
          await limits.streams.hold(user, lease); // renewed while it runs; lapses on its own if this process dies
        }
      } finally {
        await close();
      }
    }
    return Object.assign(batches(), { after, close });
  }

  /**
   * Deletes the conversation everywhere: ends its run (first, so that nothing writes behind the deletion), deletes
   * the histories of all its runs from Temporal (in the background, there), then its Redis keys, archived turns and
   * stored texts. Admins only (even for their own). Audited.
   */
  async delete(caller: Caller, ref: ConversationRef): Promise<{ runs: number; transcriptSegments: number; texts: number }> {
    if (!hasRole(caller.principal, 'admin')) {
      this.audit(caller, 'role.denied', ref.id, 'denied');
      throw new ForbiddenError('Deleting a conversation needs the admin role.');
    }
    await this.require(ref);
    const runs = await this.deleteRuns(ref.id, `deleted by ${caller.principal.user}`);
    await this.deps.store.forget(ref.id);
    await this.deps.limits.messages.forgetConversation(ref.user, ref.clientId);
    const transcriptSegments = await this.deps.archive.forget(ref.id);
    const texts = await this.deps.texts.forget(ref.id);
    this.audit(caller, 'conversation.delete', ref.id, 'done');
    return { runs, transcriptSegments, texts };
  }

  /** A user's API and web conversations (the caller's own, or any user's for an operator), newest first. */
  async list(caller: Caller, user: string = caller.principal.user, limit = 100): Promise<ConversationSummary[]> {
    if (user !== caller.principal.user && !hasRole(caller.principal, 'operator')) return [];
    if (user !== caller.principal.user) this.audit(caller, 'conversation.read-other', `user:${user}`, 'allowed');
    const conversations = await this.bounded(() => listConversations(this.deps.client, user, limit));
    const titles = await this.deps.store.titles(conversations.map((c) => c.id));
    return conversations.map((c, i) => ({ ...c, title: titles[i] ?? c.clientId }));
  }

  async runState(conversationId: string): Promise<ConversationRunState> {
    try {
      const description = await this.bounded(() => this.deps.client.workflow.getHandle(conversationId).describe());
      return description.status.name === 'RUNNING' ? 'running' : 'closed';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'unknown';
      throw error;
    }
  }

  /** The live snapshot of a running conversation (asks its workflow: needs a worker). */
  async snapshot(conversationId: string): Promise<ConversationSnapshot> {
    return this.bounded(() => this.deps.client.workflow.getHandle(conversationId).query(snapshotQuery));
  }

  /** Only that the conversation exists (Temporal's record or a stored context): no worker involved. */
  async require(ref: ConversationRef): Promise<void> {
    const state = await this.runState(ref.id);
    if (state === 'unknown' && !(await this.storedContext(ref.id))) throw notFound(ref);
  }

  private async find(ref: ConversationRef) {
    const state = await this.runState(ref.id);
    if (state === 'running') return { state, snapshot: await this.snapshot(ref.id) } as const;
    const context = await this.storedContext(ref.id);
    if (state === 'unknown' && !context) throw notFound(ref);
    return { state, context } as const;
  }

  private async storedContext(conversationId: string) {
    return (await this.deps.store.loadContext(conversationId)) ?? (await this.deps.archive.latestContext(conversationId));
  }

  private async deleteRuns(conversationId: string, reason: string): Promise<number> {
    const { client } = this.deps;
    await this.bounded(() => client.workflow.getHandle(conversationId).terminate(reason)).catch((error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    });
    let deleted = 0;
    for await (const run of client.workflow.list({ query: `WorkflowId = '${conversationId.replaceAll("'", "\\'")}'` })) {
      const { namespace } = client.options;
      await this.bounded(() =>
        client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId: run.workflowId, runId: run.runId } }),
      );
      deleted += 1;
    }
    return deleted;
  }

  private validate(message: { text: string; messageId: string }): void {
    const { maxTextChars } = this.deps.config.api;
    if (typeof message.text !== 'string' || message.text.trim().length === 0) throw new InvalidInputError('text', 'text must not be empty.');
    if (message.text.length > maxTextChars) {
      throw new InvalidInputError('text', `text has ${message.text.length} characters; at most ${maxTextChars} are accepted.`);
    }
    if (typeof message.messageId !== 'string' || message.messageId.length === 0 || message.messageId.length > 200) {
      throw new InvalidInputError('messageId', 'messageId must be 1-200 characters.');
    }
  }

  private audit(caller: Caller, ...[action, target, outcome]: [Parameters<AuditLog['record']>[0]['action'], string, 'allowed' | 'denied' | 'done']): void {
    const { user, role } = caller.principal;
    this.deps.audit.record({ actor: user, roles: [role], action, target, outcome, requestId: caller.requestId, ip: caller.ip });
  }

  private bounded<T>(call: () => Promise<T>): Promise<T> {
    return this.deps.client.connection.withDeadline(Date.now() + callTimeoutMs, call);
  }

  /** The one place start options are built. */
  private startOptions(conversation: ConversationRef): Omit<WorkflowStartOptions<ConversationWorkflow>, 'signal' | 'signalArgs'> {
    const { id, channel, user, title } = conversation;
    const keys = searchAttributeKeys;
    return {
      taskQueue: this.deps.config.temporal.taskQueue,
      workflowId: id,
      args: [{ conversationId: id, channel, settings: conversationSettings(this.deps.config) }],
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

function notFound(ref: ConversationRef): NotFoundError {
  return new NotFoundError(`No conversation "${ref.clientId}".`);
}

/** A conversation's title: its first message, on one line, cut at a word. */
function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= titleChars) return line;
  const cut = line.slice(0, titleChars);
  return `${cut.slice(0, cut.lastIndexOf(' ') > titleChars / 2 ? cut.lastIndexOf(' ') : titleChars)}…`;
}
