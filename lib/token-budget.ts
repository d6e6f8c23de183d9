/**
 * The model-token budget per user and UTC day, shared through Redis: the model activities count every answer's
 * and summary's usage against the conversation's owner, and the edges refuse new messages once today's count has
 * reached the budget. The owner is read off the workflow id, the way the edges built it (limitSubject).
 * @example await budget.record('api:alice:demo', 812); await budget.check('alice'); // LimitExceededError when spent
 */
import { LimitExceededError } from './errors';
import type { Redis } from './redis';

/** The budget is counted per UTC day; a day's counter lives two days. */
const counterTtlSeconds = 2 * 24 * 3600;

/**
 * Whose budget a conversation spends: `api:<user>:<id>` → `<user>` (the token's sub, which may itself hold colons),
 * `telegram:<chat>` → `tg:<chat>`. The edges check the same subject.
 */
export function limitSubject(conversationId: string): string {
  if (conversationId.startsWith('telegram:')) return `tg:${conversationId.slice('telegram:'.length)}`;
  if (conversationId.startsWith('api:')) return conversationId.slice('api:'.length, conversationId.lastIndexOf(':'));
  return conversationId;
}

export class TokenBudget {
  /** @param perDay model tokens a user may spend per UTC day; 0 turns the budget off. */
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly perDay: number,
  ) {}

  /** Counts `tokens` against the owner of `conversationId`. */
  async record(conversationId: string, tokens: number): Promise<void> {
    if (this.perDay === 0 || tokens <= 0) return;
    const key = this.key(limitSubject(conversationId));
    await this.redis.multi().incrby(key, Math.round(tokens)).expire(key, counterTtlSeconds).exec();
  }

  /** LimitExceededError when `subject` has spent today's budget (Retry-After: until the next UTC midnight). */
  async check(subject: string): Promise<void> {
    if (this.perDay === 0) return;
    const spent = Number((await this.redis.get(this.key(subject))) ?? 0);
    if (spent < this.perDay) return;
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const retryAfterSeconds = Math.max(1, Math.ceil((midnight.getTime() - Date.now()) / 1000));
    throw new LimitExceededError(
      `You have used today's budget of ${this.perDay} model tokens (${spent} so far); this message was not accepted. ` +
        'The budget renews at midnight UTC.',
      retryAfterSeconds,
    );
  }

  private key(subject: string): string {
    return `${this.keyPrefix}limits:tokens:{${subject}}:${new Date().toISOString().slice(0, 10)}`;
  }
}
