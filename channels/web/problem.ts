/**
 * The errors a socket can meet, as the problem+json bodies HTTP answers with (api/problem.ts; lib/unavailable.ts
 * tells both when a dependency is down): acks carry them as `problem`, `error` events and `connect_error` as their
 * data. A limit's Retry-After becomes `retryAfter`.
 */
import { AuthenticationError } from '../../lib/auth';
import {
  ForbiddenError,
  InvalidInputError,
  LimitExceededError,
  NotFoundError,
  OverloadedError,
  QueueFullError,
} from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { unavailableDependency } from '../../lib/unavailable';
import type { Problem } from './protocol';

const titles: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Seconds a sender waits after a dependency or this process was too busy: as HTTP's 503s say. */
const unavailableRetrySeconds = 5;

export function problem(status: number, detail: string, extra: Pick<Problem, 'retryAfter' | 'errors'> = {}): Problem {
  return { type: 'about:blank', title: titles[status] ?? 'Error', status, detail, ...extra };
}

/** The problem `error` stands for; an unexpected error's own message never reaches the client. */
export function problemOf(error: unknown): Problem {
  if (error instanceof InvalidInputError) return problem(422, error.message, { errors: [{ field: error.field, message: error.message }] });
  if (error instanceof AuthenticationError) return problem(401, `The token was refused: ${error.message}.`);
  if (error instanceof NotFoundError) return problem(404, error.message);
  if (error instanceof ForbiddenError) return problem(403, error.message);
  if (error instanceof QueueFullError) {
    return problem(429, error.detail, { retryAfter: error.retryAfterSeconds });
  }
  if (error instanceof LimitExceededError) return problem(429, error.message, { retryAfter: error.retryAfterSeconds });
  if (error instanceof OverloadedError) return problem(503, error.message, { retryAfter: unavailableRetrySeconds });
  const dependency = error instanceof Error ? unavailableDependency(error) : undefined;
  if (dependency) return problem(503, `${dependency} is unavailable right now; retry later. Nothing was lost.`, { retryAfter: unavailableRetrySeconds });
  return problem(500, 'Unexpected error; it has been logged.');
}

/** Logs what operators must hear of: an unexpected error (with its stack) at error, an unavailable dependency at warn. */
export function logProblem(logger: Logger, error: unknown, { status }: Problem, fields: Record<string, unknown>): void {
  if (status === 500) logger.error({ ...fields, err: error }, 'unexpected error in the Socket.IO edge');
  else if (status === 503) logger.warn({ ...fields, error: (error as Error).message }, 'dependency unavailable or process busy');
}
