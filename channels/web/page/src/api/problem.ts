/** RFC 9457 problem details, the API's one error shape, and what the page tells the user about an error. */

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && ('detail' in value || 'title' in value);
}

/**
 * A sentence for the user from whatever failed: a problem body, an RTK Query error (`{ status, data }`), or an
 * Error. Network failures say so instead of showing an empty message.
 */
export function describeError(error: unknown): string {
  if (isProblem(error)) return error.detail ?? error.title ?? 'The server refused the request.';
  if (typeof error === 'object' && error !== null && 'data' in error && isProblem(error.data)) return describeError(error.data);
  if (typeof error === 'object' && error !== null && 'status' in error && error.status === 'FETCH_ERROR') {
    return 'The server cannot be reached; check the connection and try again.';
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

/** The HTTP status of an RTK Query error, when it has one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  return typeof error.status === 'number' ? error.status : undefined;
}
