/**
 * POST /telegram/webhook: Telegram delivers updates here in webhook mode. The secret header is checked first
 * (401 otherwise); 200 means the update's signal was accepted. Anything else is non-2xx, and Telegram redelivers.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Update } from 'grammy/types';
import type { TelegramWebhook } from '../../channels/telegram/channel';
import { problem } from '../problem';

/** An update is a message of at most 4,096 characters with its entities: far below this. */
const maxUpdateBytes = 1024 * 1024;

export function telegramWebhookRoutes(webhook: TelegramWebhook, app: OpenAPIHono) {
  app.use('/telegram/webhook', bodyLimit({ maxSize: maxUpdateBytes, onError: (c) => problem(c, 413, `An update is never larger than ${maxUpdateBytes} bytes.`) }));
  return app.post('/telegram/webhook', async (c) => {
    const check = webhook.check(c.req.header('x-telegram-bot-api-secret-token'));
    if (check === 'wrong-secret') return problem(c, 401, 'Missing or wrong X-Telegram-Bot-Api-Secret-Token header.');
    if (check === 'starting') {
      c.header('retry-after', '5');
      return problem(c, 503, 'The Telegram channel is still starting; Telegram will deliver this update again.');
    }
    const update = await c.req.json<Update>().catch(() => undefined);
    if (!update || typeof update !== 'object' || !Number.isSafeInteger(update.update_id)) {
      return problem(c, 400, 'The body is not a Telegram update (a JSON object with an integer update_id).');
    }
    // A rejection goes to the error handler: "Temporal/Redis unavailable" becomes 503, anything else 500, and
    // Telegram retries.
    await webhook.handle(update);
    return c.json({ ok: true });
  });
}
