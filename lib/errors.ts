/** The few named errors the project throws; each sets `name` and keeps its `cause`. */

/** Configuration is missing or invalid; `problems` lists every one found, not just the first. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A dependency (Temporal, Redis, the archive) cannot be reached right now; callers may retry later. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  constructor(readonly dependency: string, options?: { cause?: unknown }) {
    super(`${dependency} is unavailable`, options);
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** A remote service asked us to slow down; try again after `retryAfterMs`. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(readonly service: string, readonly retryAfterMs: number) {
    super(`${service} asked to retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

/** A remote service refused the request for good (e.g. Telegram: the user blocked the bot); retrying cannot help. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

/** A conversation has as many messages waiting as it may hold: the message was not sent; send it again later. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly conversationId: string, readonly retryAfterSeconds: number) {
    super(`conversation ${conversationId} has too many messages waiting for a reply`);
  }

  /** What the sender is told, whichever edge it came in by. */
  get detail(): string {
    return (
      'This conversation already has as many messages waiting for a reply as it may hold; this one was not accepted. ' +
      `Send it again (with the same messageId) in ${this.retryAfterSeconds} s.`
    );
  }
}

/** A user went over one of their limits (messages per minute, open streams): nothing was taken; retry later. */
export class LimitExceededError extends Error {
  override readonly name = 'LimitExceededError';
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}

/** This process already serves as many waiting requests as it may; retry shortly (another replica may have room). */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}

/** The caller may see the thing but lacks the role to do this to it (an operator deleting, say). */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

/** A request's content is invalid (a text too long, an id malformed); `field` names what to fix. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}
