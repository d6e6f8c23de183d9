/**
 * Request validation failures as problem+json: the body → 422, path/query → 400, each bad field named.
 * Non-JSON bodies on JSON routes → 415.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ZodError } from 'zod';
import { problem, type FieldError } from './problem';

export function validationProblem(
  result: { success: true } | { success: false; error: ZodError; target: string },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const errors = fieldErrors(result.error);
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return problem(c, result.target === 'json' ? 422 : 400, detail, { errors });
}

function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { field: issue.keys.join(', '), message: 'unknown field (not part of this API)' };
    }
    if (issue.code === 'invalid_type' && issue.path.length === 0) {
      return { field: '(body)', message: 'expected a JSON object' };
    }
    return { field: issue.path.map(String).join('.') || '(body)', message: issue.message };
  });
}

/** Rejects a request whose body is not declared as JSON, before anything reads it. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return problem(c, 415, `Send the body as application/json (got ${type ? `"${type}"` : 'no content-type'}).`);
  }
  await next();
};
