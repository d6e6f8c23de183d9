/**
 * The one place GraphQL errors get their `extensions.code`: each lib/errors.ts class, and a dependency that is down,
 * becomes the code a client can act on (with `retryAfter` in seconds where retrying helps), as api/problem.ts turns
 * them into HTTP statuses. Anything else is logged and masked: no stack trace or internal message reaches a client.
 * GraphQL's own errors (syntax, validation, the query limits) pass unchanged.
 */
import { GraphQLError } from 'graphql';
import { ForbiddenError, InvalidInputError, LimitExceededError, NotFoundError, OverloadedError, QueueFullError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { isStuckWorkflowTask, unavailableDependency } from '../../lib/unavailable';

interface Known {
  code: string;
  message: string;
  /** Seconds after which the same request may succeed. */
  retryAfter?: number;
  /** The input that is wrong. */
  field?: string;
}

/** yoga's `maskedErrors.maskError`: called for every error of every result. */
export function graphqlErrorMask(logger: Logger) {
  return (error: unknown): Error => {
    if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) return error;
    const original = error instanceof GraphQLError ? error.originalError : error;
    const located = error instanceof GraphQLError ? { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path } : {};
    const known = original instanceof Error ? knownError(original, logger) : undefined;
    if (known) {
      const { message, ...extensions } = known;
      return new GraphQLError(message, { ...located, extensions });
    }
    logger.error({ err: original, path: located.path?.join('.') }, 'unhandled error');
    return new GraphQLError('Unexpected error; it has been logged.', { ...located, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}

function knownError(error: Error, logger: Logger): Known | undefined {
  if (error instanceof NotFoundError) return { code: 'NOT_FOUND', message: error.message };
  if (error instanceof ForbiddenError) return { code: 'FORBIDDEN', message: error.message };
  if (error instanceof InvalidInputError) return { code: 'BAD_USER_INPUT', message: error.message, field: error.field };
  if (error instanceof QueueFullError) {
    return { code: 'QUEUE_FULL', message: error.detail, retryAfter: error.retryAfterSeconds };
  }
  if (error instanceof LimitExceededError) return { code: 'RATE_LIMITED', message: error.message, retryAfter: error.retryAfterSeconds };
  if (error instanceof OverloadedError) return { code: 'UNAVAILABLE', message: error.message, retryAfter: 5 };
  if (isStuckWorkflowTask(error)) {
    logger.error({ error: error.message }, 'a conversation cannot answer: its workflow task is failing');
    const message = 'This conversation cannot answer right now: its workflow is failing and operators have been alerted. Messages sent to it are kept.';
    return { code: 'UNAVAILABLE', message, retryAfter: 30 };
  }
  const dependency = unavailableDependency(error);
  if (dependency) {
    logger.warn({ dependency, error: error.message }, 'dependency unavailable');
    return { code: 'UNAVAILABLE', message: `${dependency} is unavailable right now; retry later. Nothing was lost.`, retryAfter: 5 };
  }
  return undefined;
}
