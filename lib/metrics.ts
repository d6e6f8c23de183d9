/**
 * The engine's own Prometheus metrics (prom-client), one registry per process, built by the composition root and
 * passed down. Temporal's SDK metrics (task latencies, pollers, workflow task failures) come from the SDK core's own
 * exporter and are served beside these (workers/metrics-server.ts), not copied into this registry.
 *
 * Labels are bounded: route patterns, channels, providers, outcomes; never a conversation id, user id or text.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Channel } from '../workflows/messages';

/** Seconds: from a chat's quick turns to a slow model's long answers. */
const turnBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120];
const requestBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** How a call to a model provider ended (`aac_model_requests_total{outcome}`). */
export type ModelOutcome = 'ok' | '429' | '5xx' | 'timeout' | 'network' | 'rejected' | 'malformed' | 'error';

/**
 * Every metric the engine exports. Each process registers all of them; a process fills the ones it serves.
 * @example const metrics = createMetrics('worker'); metrics.model.requests.inc({ provider, model, outcome: 'ok' });
 */
export function createMetrics(service: 'api' | 'worker') {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics = {
    registry,
    http: {
      requests: new Counter({ name: 'aac_http_requests_total', help: 'HTTP requests by route pattern, method and status', labelNames: ['route', 'method', 'status'], registers }),
      duration: new Histogram({ name: 'aac_http_request_duration_seconds', help: 'HTTP request latency (to the response head; streams end later)', labelNames: ['route', 'method'], buckets: requestBuckets, registers }),
      eventStreams: new Gauge({ name: 'aac_event_streams_open', help: 'Open SSE event streams', registers }),
    },
    intake: {
      messages: new Counter({ name: 'aac_messages_total', help: 'Inbound messages by channel and outcome (accepted, repeated, queue_full)', labelNames: ['channel', 'outcome'], registers }),
    },
    turn: {
      duration: new Histogram({ name: 'aac_turn_duration_seconds', help: "From a turn's first message arriving to its reply being published", labelNames: ['channel'], buckets: turnBuckets, registers }),
      firstToken: new Histogram({ name: 'aac_turn_first_token_seconds', help: "From a turn's first message arriving to the reply's first token", labelNames: ['channel'], buckets: turnBuckets, registers }),
      coalesced: new Histogram({ name: 'aac_turn_messages', help: 'Messages one reply answers (more than one: coalesced)', labelNames: ['channel'], buckets: [1, 2, 3, 5, 10, 20], registers }),
      replies: new Counter({ name: 'aac_replies_total', help: 'Replies published, by kind (answer, apology)', labelNames: ['channel', 'kind'], registers }),
    },
    model: {
      requests: new Counter({ name: 'aac_model_requests_total', help: 'Calls to model providers by outcome', labelNames: ['provider', 'model', 'outcome'], registers }),
      duration: new Histogram({ name: 'aac_model_request_duration_seconds', help: 'Model call latency, whole stream', labelNames: ['provider', 'model'], buckets: turnBuckets, registers }),
      fallbacks: new Counter({ name: 'aac_model_fallbacks_total', help: 'Times a failing provider handed a request to the next one', labelNames: ['provider'], registers }),
      tokens: new Counter({ name: 'aac_model_tokens_total', help: 'Model tokens as providers report them (cost), by direction (prompt, completion)', labelNames: ['provider', 'model', 'direction'], registers }),
    },
    delivery: {
      telegram: new Counter({ name: 'aac_telegram_requests_total', help: 'Telegram sends and edits by outcome (ok, 429, refused, failed, uncertain)', labelNames: ['method', 'outcome'], registers }),
      archiveWrites: new Counter({ name: 'aac_archive_writes_total', help: 'Archive writes (transcript segments, stored texts) by outcome', labelNames: ['outcome'], registers }),
      redisErrors: new Counter({ name: 'aac_redis_errors_total', help: 'Redis connection errors', registers }),
    },
    idleCloser: {
      rounds: new Counter({ name: 'aac_idle_closer_rounds_total', help: "The idle closer's rounds by outcome (ok, failed)", labelNames: ['outcome'], registers }),
      requests: new Counter({ name: 'aac_idle_close_requests_total', help: 'Idle conversations the idle closer asked to close', registers }),
    },
  };
  if (service === 'worker') zeroWatchedSeries(metrics);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

const channels: readonly Channel[] = ['api', 'telegram'];

/**
 * The worker's series that alerts watch with increase() start at 0, not at their first event: Prometheus sees no
 * increase in a series whose first sample is already 1 (the first apology after a start would never alert).
 */
function zeroWatchedSeries(metrics: Metrics): void {
  for (const channel of channels) {
    for (const kind of ['answer', 'apology']) metrics.turn.replies.inc({ channel, kind }, 0);
    metrics.turn.duration.zero({ channel });
    metrics.turn.firstToken.zero({ channel });
  }
  metrics.delivery.telegram.inc({ method: 'sendMessage', outcome: 'uncertain' }, 0);
  for (const outcome of ['ok', 'failed']) metrics.delivery.archiveWrites.inc({ outcome }, 0);
}
