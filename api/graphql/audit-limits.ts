/**
 * Audits a GraphQL operation refused over a limit as `limit.exceeded`, as the REST API does for its 429s; the target
 * names the field, e.g. `POST /graphql sendMessage`. It sees results before the errors are masked, with their classes.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import { LimitExceededError, QueueFullError } from '../../lib/errors';
import { audit } from '../audit';
import type { HonoServerContext } from './context';

export function auditLimits(): Plugin<HonoServerContext> {
  const auditRefusals = ({ result, args }: { result: ExecutionResult; args: { contextValue: HonoServerContext } }) => {
    const { hono } = args.contextValue;
    for (const error of result.errors ?? []) {
      if (!(error instanceof GraphQLError && (error.originalError instanceof LimitExceededError || error.originalError instanceof QueueFullError))) continue;
      audit(hono, 'limit.exceeded', `${hono.req.method} ${hono.req.path} ${error.path?.join('.') ?? ''}`.trimEnd(), 'denied');
    }
  };
  return {
    onExecute: () => ({ onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, auditRefusals) }),
    onSubscribe: () => ({ onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, auditRefusals) }),
  };
}
