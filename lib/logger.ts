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

/**
 * @param options.secrets values that must never reach a log line in any form, e.g. the Telegram bot token, which
 *   is part of every Bot API URL and so of every network error's message and cause: replaced in the finished line.
 */
export function createLogger(options: { level: string; name: string; secrets?: (string | undefined)[] }): Logger {
  const secrets = (options.secrets ?? []).filter((secret): secret is string => Boolean(secret && secret.length >= 8));
  const hooks = secrets.length > 0 ? { streamWrite: (line: string) => secrets.reduce((out, secret) => out.replaceAll(secret, '[redacted]'), line) } : {};
  return pino({ level: options.level, name: options.name, base: { pid: process.pid }, redact, hooks });
}
