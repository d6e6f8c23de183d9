/**
 * Structured JSON logs (pino). Message text and reply text are logged only at `debug` or below:
 * at `info` a log line carries ids, counts and timings, never what a user wrote.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * ioredis attaches the failed command (`err.command.args`, e.g. an XADD carrying reply text) to its errors, and
 * grammY the failed request (`err.payload`, e.g. a sendMessage's text); neither reaches a log line.
 */
const redact = ['err.command.args', 'error.command.args', 'err.previousErrors', 'error.previousErrors', 'err.payload', 'error.payload'];

export function createLogger(options: { level: string; name: string }): Logger {
  return pino({ level: options.level, name: options.name, base: { pid: process.pid }, redact });
}
