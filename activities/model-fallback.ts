/**
 * The one fallback walk over the configured providers, shared by every model activity.
 */
import { context, trace, type Tracer } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import type { LimitFunction } from 'p-limit';
import type { Logger } from '../lib/logger';
import type { Metrics, ModelOutcome } from '../lib/metrics';
import { failed } from '../lib/spans';
import type { ChatModel, ChatResult } from './ports';
import type { Pulse } from './heartbeat';
import { classifyModelError, type ModelErrorClass } from './model-errors';

/** A provider with its process-wide concurrency limiter. */
export interface ProviderLane {
  model: ChatModel;
  limit: LimitFunction;
}

export interface FallbackCall {
  /** Fields every log line of this call carries (ids and counts, never text). */
  logFields: Record<string, unknown>;
  /** The activity's cancellation signal: cancelling stops the walk instead of falling back. */
  signal: AbortSignal;
  /** Remembers, across attempts, the providers that rejected this request; they are not asked again. */
  pulse: Pick<Pulse, 'rejectedEarlier' | 'rejectedBy'>;
  /** Sends the request to one provider. Runs inside that provider's concurrency limit. */
  run(model: ChatModel, signal: AbortSignal): Promise<ChatResult>;
  /** Counts each provider's calls, latency, tokens and fallbacks. */
  metrics?: Metrics['model'] | undefined;
  /** Makes a span of each provider's call, in the activity's trace. */
  tracer: Tracer;
}

interface Failure extends ModelErrorClass {
  provider: string;
  error: unknown;
}

/**
 * Tries each provider in order, once. Any failure moves on to the next provider: a retryable one because another
 * provider may be up, a rejected one because the same request would be rejected again.
 * When all fail: every one rejected → non-retryable `ModelRequestRejected` (retrying cannot help);
 * otherwise retryable `ModelUnavailable`, so Temporal retries the activity with backoff.
 */
export async function callWithFallback(
  lanes: readonly ProviderLane[],
  logger: Logger,
  call: FallbackCall,
): Promise<{ result: ChatResult; model: ChatModel }> {
  const failures: Failure[] = [];
  for (const [index, { model, limit }] of lanes.entries()) {
    // It refused this very request in an earlier attempt: asking again cannot help.
    if (call.pulse.rejectedEarlier.has(model.provider)) {
      failures.push({ kind: 'rejected', reason: 'request-error', provider: model.provider, error: undefined });
      continue;
    }
    const fields = { ...call.logFields, provider: model.provider, model: model.model };
    const started = performance.now();
    // Named and labelled as OpenTelemetry's generative-AI conventions do; the outcome as the metrics count it.
    const span = call.tracer.startSpan(`chat ${model.model}`, {
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': model.provider, 'gen_ai.request.model': model.model },
    });
    try {
      const result = await context.with(trace.setSpan(context.active(), span), () =>
        untilAborted(
          limit(() => {
            // Cancelled while queued for a slot: give the slot back at once.
            call.signal.throwIfAborted();
            return call.run(model, call.signal);
          }),
          call.signal,
        ),
      );
      const durationMs = Math.round(performance.now() - started);
      logger.info({ ...fields, durationMs, fallbacks: failures.length, usage: result.usage }, 'model call succeeded');
      span.setAttributes({
        'aac.model.outcome': 'ok',
        'gen_ai.usage.input_tokens': result.usage.promptTokens,
        'gen_ai.usage.output_tokens': result.usage.completionTokens,
      });
      count(call.metrics, model, 'ok', durationMs);
      call.metrics?.tokens.inc({ provider: model.provider, model: model.model, direction: 'prompt' }, result.usage.promptTokens);
      call.metrics?.tokens.inc({ provider: model.provider, model: model.model, direction: 'completion' }, result.usage.completionTokens);
      return { result, model };
    } catch (error) {
      if (call.signal.aborted) {
        failed(span, 'cancelled');
        throw call.signal.reason ?? error; // CancelledFailure: not the provider's fault
      }
      const failure = { ...classifyModelError(error), provider: model.provider, error };
      failures.push(failure);
      if (failure.kind === 'rejected') call.pulse.rejectedBy(model.provider);
      const durationMs = Math.round(performance.now() - started);
      span.setAttribute('aac.model.outcome', outcomes[failure.reason]);
      failed(span, outcomes[failure.reason]);
      count(call.metrics, model, outcomes[failure.reason], durationMs);
      if (index < lanes.length - 1) call.metrics?.fallbacks.inc({ provider: model.provider });
      logger.warn(
        { ...fields, durationMs, kind: failure.kind, reason: failure.reason, status: failure.status },
        'model call failed; trying the next provider',
      );
      // Some servers echo the prompt in their error text: only at debug, where message text may appear.
      logger.debug({ ...fields, error: errorMessage(error) }, 'model call failure detail');
    } finally {
      span.end();
    }
  }
  throw exhausted(failures);
}

const outcomes: Record<ModelErrorClass['reason'], ModelOutcome> = {
  'rate-limited': '429',
  'server-error': '5xx',
  timeout: 'timeout',
  aborted: 'timeout',
  connection: 'network',
  'malformed-stream': 'malformed',
  'request-error': 'rejected',
  unknown: 'error',
};

function count(metrics: Metrics['model'] | undefined, model: ChatModel, outcome: ModelOutcome, durationMs: number): void {
  metrics?.requests.inc({ provider: model.provider, model: model.model, outcome });
  metrics?.duration.observe({ provider: model.provider, model: model.model }, durationMs / 1000);
}

function exhausted(failures: Failure[]): ApplicationFailure {
  const detail = failures.map((f) => `${f.provider}: ${f.reason}${f.status ? ` ${f.status}` : ''}`).join(', ');
  const last = failures.findLast((f) => f.error !== undefined)?.error;
  const cause = last instanceof Error ? last : undefined;
  if (failures.length > 0 && failures.every((f) => f.kind === 'rejected')) {
    return ApplicationFailure.create({
      message: `every model provider rejected the request (${detail})`,
      type: 'ModelRequestRejected',
      nonRetryable: true,
      cause,
    });
  }
  return ApplicationFailure.create({
    message: `no model provider could answer (${detail || 'none configured'})`,
    type: 'ModelUnavailable',
    nonRetryable: false,
    cause,
  });
}

/** Rejects with the signal's reason as soon as it aborts, even while `promise` is still waiting for a slot. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined); // settles later with the same abort: nothing to report twice
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
