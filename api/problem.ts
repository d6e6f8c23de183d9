/**
 * RFC 9457 problem details: the API's one error shape. `onError` maps every thrown error to it, so no
 * route formats errors itself and no stack trace reaches a client.
 */
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DecryptionError } from '../lib/encryption';
import { ForbiddenError, InvalidInputError, LimitExceededError, NotFoundError, OverloadedError, QueueFullError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { isStuckWorkflowTask, unavailableDependency } from '../lib/unavailable';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface FieldError {
  field: string;
  message: string;
}

/** Sends `application/problem+json`; `extra` adds members such as `errors` (one entry per bad field). */
export function problem(
  c: Context,
  status: ContentfulStatusCode,
  detail: string,
  extra: Record<string, unknown> = {},
): Response {
  const body = { type: 'about:blank', title: titles[status] ?? 'Error', status, detail, instance: c.req.path, ...extra };
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json' });
}

export function problemErrorHandler(logger: Logger): ErrorHandler {
  return (error, c) => {
    if (error instanceof HTTPException) return problem(c, error.status as ContentfulStatusCode, error.message);
    if (error instanceof NotFoundError) return problem(c, 404, error.message);
    if (error instanceof ForbiddenError) return problem(c, 403, error.message);
    if (error instanceof InvalidInputError) return problem(c, 422, error.message, { errors: [{ field: error.field, message: error.message }] });
    if (error instanceof QueueFullError) {
      return retryLater(
        c,
        429,
        error.retryAfterSeconds,
        error.detail,
      );
    }
    if (error instanceof LimitExceededError) return retryLater(c, 429, error.retryAfterSeconds, error.message);
    if (error instanceof OverloadedError) return retryLater(c, 503, 5, error.message);
    if (error instanceof DecryptionError) {
      logger.error({ error: error.message, path: c.req.path }, 'stored data could not be decrypted');
      return problem(c, 500, 'Stored conversation data could not be decrypted: check ENCRYPTION_KEYS (every old key must stay in the ring).');
    }
    if (isStuckWorkflowTask(error)) {
      logger.error({ error: error.message, path: c.req.path }, 'a conversation cannot answer: its workflow task is failing');
      return retryLater(c, 503, 30, 'This conversation cannot answer right now: its workflow is failing and operators have been alerted. Messages sent to it are kept.');
    }
    const dependency = unavailableDependency(error);
    if (dependency) {
      logger.warn({ dependency, error: error.message, path: c.req.path }, 'dependency unavailable');
      return retryLater(c, 503, 5, `${dependency} is unavailable right now; retry later. Nothing was lost.`);
    }
    logger.error({ err: error, path: c.req.path }, 'unhandled error');
    return problem(c, 500, 'Unexpected error; it has been logged.');
  };
}

/** A problem the client should retry after `seconds` (the `Retry-After` header says so). */
function retryLater(c: Context, status: ContentfulStatusCode, seconds: number, detail: string): Response {
  c.header('retry-after', String(seconds));
  return problem(c, status, detail);
}
