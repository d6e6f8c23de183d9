/**
 * Model activities: answer a turn (streaming tokens to the conversation's event stream) and fold old turns into
 * the running summary. Both walk the same provider fallback chain under per-provider concurrency caps.
 */
import type { Tracer } from '@opentelemetry/api';
import { Context } from '@temporalio/activity';
import pLimit from 'p-limit';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import { processTracer } from '../lib/spans';
import { channelOf, type ContextTurn, type InboundMessage, type Reply, type TextRef, type TokenUsage } from '../workflows/messages';
import type { ChatModel, ConversationCache, LargeTexts } from './ports';
import { withArchive } from './archive-reads';
import { isLocalSummarizer } from './echo-chat-model';
import { Pulse } from './heartbeat';
import { callWithFallback, type ProviderLane } from './model-fallback';
import { buildReplyMessages, buildSummaryRequest, clampSummary, type SummarizeInput } from './model-prompts';
import { TokenEventWriter } from './token-events';

export type { SummarizeInput } from './model-prompts';

/** One provider of the fallback chain. */
export interface ModelSlot {
  model: ChatModel;
  /** Concurrent requests this worker process sends to the provider (`ProviderConfig.maxConcurrency`). */
  maxConcurrency: number;
}

/** What the model activities need: the fallback chain, the event stream for tokens, a logger. */
export interface ModelActivityDeps {
  /** Providers in fallback order (config order). */
  models: readonly ModelSlot[];
  cache: ConversationCache;
  /** Reads texts the workflow carries by reference; stores replies too large to carry. */
  texts: LargeTexts;
  /** Counts each answer's and summary's tokens against its owner's daily budget. */
  usage?: UsageMeter;
  /** Turn latency, time to first token, coalescing and the model calls' outcomes. */
  metrics?: Pick<Metrics, 'model' | 'turn'>;
  /** Spans of the calls to the providers; default: the process's (a no-op unless tracing is on). */
  tracer?: Tracer;
  logger: Logger;
}

export interface UsageMeter {
  record(conversationId: string, tokens: number): Promise<void>;
}

/** What a turn asks the model: the context (system prompt, summary, window) and the new messages. */
export interface GenerateReplyInput {
  conversationId: string;
  replyId: string;
  systemPrompt: string;
  summary: string;
  /** Recent turns, oldest first (the texts only since `contextTurns`; histories recorded before carry whole turns). */
  window: ContextTurn[];
  /** The messages this reply answers (several when they were coalesced), in arrival order. */
  messages: InboundMessage[];
  /** Attempts made by earlier activities for the same reply (absent: none). */
  attemptsBefore?: number;
  /**
   * Set: the activity also publishes the reply (the event clients and the history read), after the last token
   * event, and answers a retry with the reply it already published. Absent in workflows recorded before.
   */
  publish?: { inReplyTo: string[] };
}

/** Which provider answered, and what it cost. */
export interface ModelAnswer {
  provider: string;
  model: string;
  usage: TokenUsage;
}

/** The whole reply text (the token events carried the same text in pieces), or its preview and a reference. */
export interface GenerateReplyResult extends ModelAnswer {
  text: string;
  textRef?: TextRef;
  /** When the reply was published (only with `publish`). */
  createdAt?: string;
}

/** The new running summary, within the requested budget. */
export interface SummarizeResult extends ModelAnswer {
  summary: string;
}

/**
 * Builds the model activities. The concurrency limiters live as long as the returned object: build it once per
 * worker process so the cap holds across all the conversations that process serves.
 * @example
 * const models = config.model.providers.map((p) => ({ model: createChatModel(p), maxConcurrency: p.maxConcurrency }));
 * const activities = createModelActivities({ models, cache, texts, logger });
 */
export function createModelActivities(deps: ModelActivityDeps) {
  if (deps.models.length === 0) throw new Error('createModelActivities: at least one chat model is required');
  const lanes: ProviderLane[] = deps.models.map(({ model, maxConcurrency }) => ({ model, limit: pLimit(maxConcurrency) }));
  const { logger, texts } = deps;
  const tracer = deps.tracer ?? processTracer();

  /** The reply `replyId` as published for its first message, carried as the workflow carries replies. */
  async function publishedReply(conversationId: string, replyId: string, publish: { inReplyTo: string[] }) {
    const first = publish.inReplyTo[0];
    const reply = first === undefined ? null : await deps.cache.findReply(conversationId, first);
    if (reply?.replyId !== replyId) return undefined;
    const { text, provider, model, usage, createdAt } = reply;
    return { ...(await withArchive(() => texts.offload(conversationId, { text, provider, model, usage }))), createdAt };
  }

  return {
    /**
     * Answers the new messages in the context of the summary and window. Streams `token` events (preceded by a
     * `restart` event on a retry, or when a fallback discards partial text) and returns the whole reply.
     * Fails with `ModelRequestRejected` (non-retryable), `ModelUnavailable` or `ArchiveUnavailable` (retryable; a text
     * carried by reference could not be read, or the reply could not be stored).
     */
    async generateReply(input: GenerateReplyInput): Promise<GenerateReplyResult> {
      const context = Context.current();
      const pulse = new Pulse(context);
      // Attempts of earlier rounds (the workflow asks again after waiting for the archive) count too: clients then
      // drop the partial text of the earlier round and follow this one.
      const attempt = context.info.attempt + (input.attemptsBefore ?? 0);
      // A worker that died after publishing: the reply the client has is the answer (asking again could differ).
      const published = input.publish && attempt > 1 ? await publishedReply(input.conversationId, input.replyId, input.publish) : undefined;
      if (published) return published;
      const [window, messages] = await withArchive(() =>
        Promise.all([texts.resolveTurns(input.window), Promise.all(input.messages.map((m) => texts.resolve(m)))]),
      );
      const request = { messages: buildReplyMessages({ ...input, window, messages }) };
      const tokens = new TokenEventWriter(deps.cache, input.conversationId, input.replyId, attempt, logger);
      const turn = turnClock(input, deps.metrics?.turn);
      // An earlier attempt may have streamed part of an answer before its worker died.
      if (attempt > 1) tokens.restart();
      try {
        const { result, model } = await pulse.during(() =>
          callWithFallback(lanes, logger, {
            logFields: { activity: 'generateReply', conversationId: input.conversationId, replyId: input.replyId, attempt },
            metrics: deps.metrics?.model,
            tracer,
            signal: context.cancellationSignal,
            pulse,
            run: (chat, signal) => {
              if (tokens.hasPartialText) tokens.restart();
              return chat.stream(
                request,
                (text) => {
                  pulse.beat();
                  turn.firstToken();
                  tokens.token(text);
                },
                signal,
              );
            },
          }),
        );
        // Counted before the reply is out: a user who sees it and writes again is checked against it.
        await deps.usage?.record(input.conversationId, result.usage.totalTokens);
        // A reply too large to carry through Temporal is stored once; the workflow carries its reference.
        const answer = { text: result.text, provider: model.provider, model: model.model, usage: result.usage };
        const carried = await withArchive(() => texts.offload(input.conversationId, answer));
        if (!input.publish) return carried;
        // The reply event comes after every token event.
        await tokens.flush();
        const reply: Reply = { replyId: input.replyId, inReplyTo: input.publish.inReplyTo, ...answer, kind: 'answer', createdAt: new Date().toISOString() };
        await deps.cache.publishReply(input.conversationId, reply);
        turn.published();
        return { ...carried, createdAt: reply.createdAt };
      } finally {
        // Without `publish`, the reply event is written after this activity: it too must come after every token.
        await tokens.flush();
      }
    },

    /** Folds `turns` into `previousSummary`; the result stays within about `maxTokens` tokens. */
    async summarize(input: SummarizeInput): Promise<SummarizeResult> {
      const context = Context.current();
      const pulse = new Pulse(context);
      const resolved = { ...input, turns: await withArchive(() => texts.resolveTurns(input.turns)) };
      const request = buildSummaryRequest(resolved);
      const { result, model } = await pulse.during(() =>
        callWithFallback(lanes, logger, {
          logFields: { activity: 'summarize', turns: input.turns.length, attempt: context.info.attempt },
          metrics: deps.metrics?.model,
          tracer,
          signal: context.cancellationSignal,
          pulse,
          run: async (chat, signal) =>
            isLocalSummarizer(chat) ? chat.summarizeLocally(resolved) : chat.stream(request, () => pulse.beat(), signal),
        }),
      );
      // The summary is spent on the conversation's behalf: its owner's budget pays, as for a reply.
      const owner = context.info.workflowExecution?.workflowId;
      if (owner) await deps.usage?.record(owner, result.usage.totalTokens);
      return {
        summary: clampSummary(result.text, input.maxTokens),
        provider: model.provider,
        model: model.model,
        usage: result.usage,
      };
    },
  };
}

/**
 * Times a turn from its first message's arrival at the edge (the edge's clock; hosts are assumed in sync): to the
 * first token this attempt streams, and to the published reply.
 */
function turnClock(input: GenerateReplyInput, metrics: Metrics['turn'] | undefined) {
  const arrived = Math.min(...input.messages.map((m) => Date.parse(m.receivedAt)));
  const labels = { channel: channelOf(input.conversationId) };
  const since = () => Math.max(0, Date.now() - arrived) / 1000;
  let streaming = false;
  return {
    firstToken() {
      if (streaming || !Number.isFinite(arrived)) return;
      streaming = true;
      metrics?.firstToken.observe(labels, since());
    },
    published() {
      if (Number.isFinite(arrived)) metrics?.duration.observe(labels, since());
      metrics?.coalesced.observe(labels, input.messages.length);
      metrics?.replies.inc({ ...labels, kind: 'answer' });
    },
  };
}
