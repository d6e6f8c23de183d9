/**
 * The Telegram webhook on a port of its own (`telegram.webhook.port`, the seed's 8443; Telegram posts only to
 * 443, 80, 88 and 8443), serving POST /telegram/webhook and nothing else, over HTTPS with the API's certificate
 * when TLS_CERT_FILE/TLS_KEY_FILE are set. The public API port then no longer answers the webhook.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { requestId } from 'hono/request-id';
import type { TelegramWebhook } from '../channels/telegram/channel';
import type { Logger } from '../lib/logger';
import { closeUnreadBodies } from './close-unread-bodies';
import { listen, type TlsFiles } from './listen';
import { problem, problemErrorHandler } from './problem';
import { telegramWebhookRoutes } from './routes/telegram-webhook';

export interface TelegramWebhookServer {
  port: number;
  close(): Promise<void>;
}

export async function startTelegramWebhookServer(
  webhook: TelegramWebhook,
  at: { host: string; port: number; tls?: TlsFiles },
  logger: Logger,
): Promise<TelegramWebhookServer> {
  const app = new OpenAPIHono();
  app.use(requestId());
  app.use(closeUnreadBodies);
  app.onError(problemErrorHandler(logger));
  app.notFound((c) => problem(c, 404, 'This port answers POST /telegram/webhook only.'));
  telegramWebhookRoutes(webhook, app);
  const { port, close } = await listen(app.fetch, at.host, at.port, at.tls);
  logger.info({ port, https: Boolean(at.tls) }, 'telegram webhook listening');
  return { port, close: () => close() };
}
