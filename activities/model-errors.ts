/**
 * What a provider failure means for the fallback chain: try elsewhere (and later, through Temporal's retry), or
 * stop sending this request to this provider because the provider refused the request itself.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export type ModelErrorKind =
  /** The provider could not answer now (rate limit, outage, timeout, network, broken stream): another may. */
  | 'retryable-elsewhere'
  /** The provider refused this request (400-class): sending the same request to it again cannot help. */
  | 'rejected';

/** The verdict on one failure: what to do next (`kind`) and why, for logs (`reason`, `status`). */
export interface ModelErrorClass {
  kind: ModelErrorKind;
  /** A short label for logs and failure messages. */
  reason: 'rate-limited' | 'server-error' | 'timeout' | 'connection' | 'malformed-stream' | 'aborted' | 'request-error' | 'unknown';
  /** HTTP status, when the provider answered with one. */
  status?: number;
}

/** A stream that broke off or ended without saying it was finished; the text received so far is incomplete. */
export class MalformedStreamError extends Error {
  override readonly name = 'MalformedStreamError';
}

/** 408 (timeout), 409 (conflict) and 429 (rate limit) are 4xx statuses that say "not now", not "never". */
const transientClientStatuses = new Set([408, 409, 429]);

/**
 * Classifies a failure from a chat model. Anything not recognisably the request's own fault is treated as
 * retryable: giving up for good on a transient failure would turn an outage into an apology.
 * @example classifyModelError(new RateLimitError(...)) // { kind: 'retryable-elsewhere', reason: 'rate-limited', status: 429 }
 */
export function classifyModelError(error: unknown): ModelErrorClass {
  // Subclasses first: a timeout is a connection error, and both are APIErrors without a status.
  if (error instanceof APIConnectionTimeoutError) return { kind: 'retryable-elsewhere', reason: 'timeout' };
  if (error instanceof APIConnectionError) return { kind: 'retryable-elsewhere', reason: 'connection' };
  if (error instanceof APIUserAbortError) return { kind: 'retryable-elsewhere', reason: 'aborted' };
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    if (status === 429) return { kind: 'retryable-elsewhere', reason: 'rate-limited', status };
    if (status >= 400 && status < 500 && !transientClientStatuses.has(status)) {
      return { kind: 'rejected', reason: 'request-error', status };
    }
    return { kind: 'retryable-elsewhere', reason: status >= 500 ? 'server-error' : 'unknown', status };
  }
  // An error event inside an SSE stream has no status: the provider failed mid-answer.
  if (error instanceof APIError) return { kind: 'retryable-elsewhere', reason: 'server-error' };
  if (error instanceof MalformedStreamError || error instanceof SyntaxError) {
    return { kind: 'retryable-elsewhere', reason: 'malformed-stream' };
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return { kind: 'retryable-elsewhere', reason: error.name === 'TimeoutError' ? 'timeout' : 'aborted' };
  }
  // undici reports a socket closed mid-body as `TypeError: terminated` (cause: SocketError).
  if (error instanceof TypeError && ('cause' in error || /terminated|fetch failed/i.test(error.message))) {
    return { kind: 'retryable-elsewhere', reason: 'connection' };
  }
  return { kind: 'retryable-elsewhere', reason: 'unknown' };
}
