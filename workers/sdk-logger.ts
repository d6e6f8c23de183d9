/**
 * Routes the Temporal SDK's own logs (worker and workflow `log`) into our ECS logger. A workflow's lines carry the
 * ids of its active span from the OpenTelemetry interceptors (`trace_id`, `span_id`): logged as ECS names them.
 */
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

export class PinoSdkLogger implements SdkLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { trace_id: traceId, span_id: spanId, trace_flags: _flags, ...fields } = meta ?? {};
    const ids = traceId && spanId ? { 'trace.id': traceId, 'span.id': spanId } : {};
    // Core reports a failing workflow task as a warning, but a conversation whose task keeps failing is stuck
    // (its messages are kept in the history, none is answered): an operator must see it, so it is an error.
    if (message.startsWith('Failing workflow task')) {
      this.logger.error({ ...fields, ...ids, 'event.action': 'workflow-task-failed' }, message);
      return;
    }
    const method = level === 'TRACE' ? 'trace' : level === 'DEBUG' ? 'debug' : level === 'WARN' ? 'warn' : level === 'ERROR' ? 'error' : 'info';
    this.logger[method]({ ...fields, ...ids }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
