/** What the HTTP API needs, as narrow interfaces; api/main.ts builds the real ones. */
import type { Tracer } from '@opentelemetry/api';
import type { AuditLog } from '../lib/audit-log';
import type { Verifier } from '../lib/auth';
import type { AppConfig } from '../lib/config';
import type { Conversations } from '../lib/conversations';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { TelegramWebhook } from '../channels/telegram/channel';

export interface ApiDeps {
  config: AppConfig;
  /** Checks a bearer token (lib/auth.ts). */
  verify: Verifier;
  /** The tamper-evident log of security-relevant actions. */
  audit: AuditLog;
  /** The edge API: everything the routes do with conversations goes through it. */
  conversations: Conversations;
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
