/** What the HTTP API needs, as narrow interfaces; api/main.ts builds the real ones. */
import type { Tracer } from '@opentelemetry/api';
import type { ContextSnapshot, Reply, Turn } from '../workflows/messages';
import type { StoredEvent } from '../lib/conversation-events';
import type { AuditLog } from '../lib/audit-log';
import type { Verifier } from '../lib/auth';
import type { MessageLimits, StreamLeases } from '../lib/rate-limits';
import type { WaitingRequests } from './waiting-requests';
import type { AppConfig } from '../lib/config';
import type { Conversations } from '../lib/conversations';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { TextStore } from '../lib/text-store';
import type { TelegramWebhook } from '../channels/telegram/channel';

export interface ReplyReader {
  lastEventId(conversationId: string): Promise<string>;
  findReply(conversationId: string, messageId: string): Promise<Reply | null>;
  waitForReply(conversationId: string, messageId: string, afterId: string, timeoutMs: number): Promise<Reply | null>;
  readEvents(conversationId: string, afterId: string, options: { blockMs?: number; count?: number }): Promise<StoredEvent[]>;
  loadContext(conversationId: string): Promise<ContextSnapshot | null>;
  forget(conversationId: string): Promise<void>;
}

export interface HistoryReader {
  readTurns(conversationId: string, options: { afterTurn?: number; limit: number }): Promise<{ turns: Turn[] }>;
  latestContext(conversationId: string): Promise<ContextSnapshot | null>;
  forget(conversationId: string): Promise<number>;
}

export interface ApiDeps {
  config: AppConfig;
  /** Checks a bearer token (lib/auth.ts). */
  verify: Verifier;
  /** The tamper-evident log of security-relevant actions. */
  audit: AuditLog;
  /** Per-user limits shared through Redis, and this process's cap on waiting requests. */
  limits: { messages: MessageLimits; streams: StreamLeases; waiting: WaitingRequests };
  conversations: Conversations;
  replies: ReplyReader;
  /** Reads the texts that conversations carry by reference (large messages and replies). */
  texts: Pick<TextStore, 'resolveTurns' | 'forget'>;
  history: HistoryReader;
  /** Each check resolves when its dependency answers and rejects otherwise. */
  readiness: Record<string, () => Promise<unknown>>;
  logger: Logger;
  /** This process's Prometheus metrics (served at /metrics to operators). */
  metrics: Metrics;
  /** A span per request (lib/tracing.ts; the no-op tracer while tracing is off). */
  tracer: Tracer;
  /** The Telegram channel's webhook intake; absent unless a bot token and a webhook URL are configured. */
  telegramWebhook?: TelegramWebhook;
}
