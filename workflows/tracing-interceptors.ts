/**
 * The workflow's tracing interceptors (the module workers/workflow-bundle.ts bundles while tracing is on): OpenTelemetry's,
 * with two changes.
 * - Their span ids come from a random stream of their own. Called bare, they draw from the workflow's stream, the
 *   one `uuid4()` reply ids come from: adding them (or taking them out) would give a run in flight other reply ids
 *   when it is replayed.
 * - The activities that answer a message (its model call, its delivery) run in the trace of the request that sent
 *   it. Bare, they would run in the trace of whatever started the run (its first message, or the continue-as-new
 *   before it): turns run in the workflow's main loop, not in the signal handler.
 * Neither changes a command: histories recorded without them replay with them, and the other way round.
 */
import { context, type Context } from '@opentelemetry/api';
import { extractContextFromHeaders } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { getRandomStream, type WorkflowInterceptorsFactory, type WorkflowRandomStream } from '@temporalio/workflow';
import { messageSignal } from './messages';

/** Traces kept for messages not answered yet: more than a conversation queues by default (100). */
const maxRemembered = 256;

export const interceptors: WorkflowInterceptorsFactory = () => {
  const random = getRandomStream('opentelemetry-span-ids');
  const traces = new Map<string, Context>();
  return {
    // First in each list, so outermost: it sets the parent the OpenTelemetry interceptor then reads.
    inbound: [
      {
        handleSignal(input, next) {
          const messageId = input.signalName === messageSignal.name ? (input.args[0] as { messageId?: string } | undefined)?.messageId : undefined;
          const trace = messageId === undefined ? undefined : extractContextFromHeaders(input.headers);
          if (messageId !== undefined && trace) {
            traces.set(messageId, trace);
            if (traces.size > maxRemembered) traces.delete(traces.keys().next().value!);
          }
          return next(input);
        },
      },
      withOwnRandom(new OpenTelemetryInboundInterceptor(), random),
    ],
    outbound: [
      {
        scheduleActivity(input, next) {
          const messageId = answeredMessage(input.args[0]);
          const trace = messageId === undefined ? undefined : traces.get(messageId);
          return trace ? context.with(trace, () => next(input)) : next(input);
        },
      },
      withOwnRandom(new OpenTelemetryOutboundInterceptor(), random),
    ],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};

/**
 * The first message an activity's input answers: `messages` of generateReply, `reply.inReplyTo` of the deliveries.
 * A reply to several messages (coalesced) belongs to the first one's trace.
 */
function answeredMessage(input: unknown): string | undefined {
  const { messages, reply } = (input ?? {}) as { messages?: { messageId?: string }[]; reply?: { inReplyTo?: string[] } };
  return messages?.[0]?.messageId ?? reply?.inReplyTo?.[0];
}

/**
 * Each of the interceptor's methods, run with `random` as the workflow's random numbers. What they call `next` with
 * draws from the workflow's own stream again (the SDK restores it for the rest of the chain).
 */
function withOwnRandom<T extends object>(interceptor: T, random: WorkflowRandomStream): T {
  const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(interceptor)).filter((name) => name !== 'constructor');
  const bound = (name: string) => (interceptor as Record<string, (...args: unknown[]) => unknown>)[name]!.bind(interceptor);
  return Object.fromEntries(methods.map((name) => [name, (...args: unknown[]) => random.with(() => bound(name)(...args))])) as T;
}
