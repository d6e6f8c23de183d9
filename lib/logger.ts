/**
 * Structured logs in Elastic Common Schema (ECS), one JSON object per line as Filebeat's `ndjson` parser reads them
 * (deploy/filebeat/filebeat.yml): `@timestamp`, `log.level`, `message`, `ecs.version`, `service.name`, the logger's
 * name as `log.logger`, a logged `err` as `error.*`, and `trace.id`/`span.id` while a span is active.
 * Message text and reply text are logged only at `debug` or below: at `info` a log line carries ids, counts and
 * timings, never what a user wrote.
 */
import { ecsFormat } from '@elastic/ecs-pino-format';
import { pino, stdSerializers, type Logger } from 'pino';
import { activeSpanContext } from './spans';

export type { Logger };

/**
 * ioredis attaches the failed command (`err.command.args`, e.g. an XADD carrying reply text) to its errors, and
 * grammY the failed request (`err.payload`, e.g. a sendMessage's text); neither reaches a log line. (A logged `err`
 * is `error` by the time these apply: see ecsError.)
 */
const redact = ['error.command.args', 'error.previousErrors', 'error.payload'];

export interface LoggerOptions {
  level: string;
  /** Tells the processes and parts of one service apart (`log.logger`): `api`, `worker`, `temporal-sdk`, … */
  name: string;
  /** `service.name` (see serviceNameOf in config.ts); default `ai-assistant-core`. */
  service?: string;
  /**
   * Values that must never reach a log line in any form, e.g. the Telegram bot token, which is part of every Bot
   * API URL and so of every network error's message and cause: replaced in the finished line.
   */
  secrets?: (string | undefined)[];
}

export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((secret): secret is string => Boolean(secret && secret.length >= 8));
  const hooks = secrets.length > 0 ? { streamWrite: (line: string) => secrets.reduce((out, secret) => out.replaceAll(secret, '[redacted]'), line) } : {};
  // Its error conversion drops an error's causes and own fields (ECONNREFUSED, a status): ours keeps them.
  const ecs = ecsFormat({ serviceName: options.service ?? 'ai-assistant-core', convertErr: false, apmIntegration: false });
  const ecsFields = ecs.formatters!.log!;
  return pino({
    ...ecs,
    level: options.level,
    name: options.name,
    base: { pid: process.pid },
    redact,
    hooks,
    formatters: { ...ecs.formatters, log: (fields) => ecsError(ecsFields(fields)) },
    mixin: activeSpan,
  });
}

/** The active span's ids: every line written inside a traced request, update or activity can be found by its trace. */
function activeSpan(): Record<string, string> {
  const span = activeSpanContext();
  return span ? { 'trace.id': span.traceId, 'span.id': span.spanId } : {};
}

/**
 * `err` (pino's name) or an Error under `error` as ECS `error.type`, `error.message` and `error.stack_trace`, with
 * causes (pino's serializer folds them into message and stack) and the error's own fields; an `error` given as a
 * string becomes `error.message`. ECS maps `error` as an object: a string there would be refused by Elasticsearch.
 */
function ecsError(fields: Record<string, unknown>): Record<string, unknown> {
  const { err, error, ...rest } = fields;
  const thrown = err ?? error;
  if (thrown === undefined) return fields;
  if (typeof thrown !== 'object' || thrown === null) return { ...rest, error: { message: String(thrown) } };
  if (!(thrown instanceof Error)) return { ...rest, error: thrown };
  const { stack, ...serialized } = stdSerializers.err(thrown) as unknown as Record<string, unknown>;
  return { ...rest, error: { ...serialized, stack_trace: stack } };
}
