/**
 * The Telegram channel in webhook mode: the local Bot API server pushes updates to /telegram/webhook, on the
 * API's port or on a TLS port of its own.
 */
import { request } from 'node:https';
import { WorkflowNotFoundError } from '@temporalio/client';
import { generateKeySpec } from '../lib/key-ring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, type Certificate } from './support/certificate';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { freePort } from '../lib/free-ports';
import { startTelegramServer, type TelegramServer } from '../scripts/simulators/telegram-server';

const secret = 'test-webhook-secret_1';

async function webhookEngine(
  telegram: TelegramServer,
  options: { secret?: string; temporalAddress?: string; keyPrefix?: string; encryptionKeys?: string } = {},
) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/telegram/webhook`;
  const engine = await startEngine({
    ...(options.temporalAddress ? { temporalAddress: options.temporalAddress, worker: false } : {}),
    env: {
      PORT: String(port),
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_WEBHOOK_URL: url,
      ...(options.secret ? { TELEGRAM_WEBHOOK_SECRET: options.secret } : {}),
      ...(options.keyPrefix ? { REDIS_KEY_PREFIX: options.keyPrefix } : {}),
      ...(options.encryptionKeys ? { ENCRYPTION_KEYS: options.encryptionKeys } : {}),
    },
  });
  return { engine, url };
}

/** An update posted straight to the route, as if from Telegram, for a chat the Bot API server never saw. */
function privateUpdate(updateId: number, chatId: number, text: string) {
  const user = { id: chatId, is_bot: false, first_name: 'Someone' };
  return { update_id: updateId, message: { message_id: 1, date: 0, chat: { id: chatId, type: 'private' }, from: user, text } };
}

function postUpdate(url: string, update: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });
}

describe('the Telegram channel by webhook', () => {
  let telegram: TelegramServer;
  let engine: Engine;
  let url: string;

  beforeAll(async () => {
    telegram = await startTelegramServer({ botUsername: 'hook_bot' });
    ({ engine, url } = await webhookEngine(telegram, { secret }));
    await eventually(() => telegram.webhook()?.url === url, { what: 'the webhook registration' });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await telegram?.close();
  });

  it('registers the URL with its secret and answers the updates Telegram posts', async () => {
    expect(telegram.webhook()).toEqual({ url, secretToken: secret });
    const update = telegram.userSends({ from: { id: 301, username: 'dave' }, text: 'hello hook' });
    await eventually(() => telegram.chatMessages(301).some((m) => !m.text.endsWith('…')), { what: 'the reply' });
    expect(telegram.chatMessages(301)).toHaveLength(1);
    expect(telegram.webhookDeliveries().filter((d) => d.updateId === update.update_id).map((d) => d.status)).toEqual([200]);
  });

  it('answers a redelivered update once', async () => {
    const update = telegram.userSends({ from: { id: 302 }, text: 'first' });
    await eventually(() => telegram.chatMessages(302).some((m) => !m.text.endsWith('…')), { what: 'the first reply' });
    telegram.redeliver(update);
    telegram.userSends({ from: { id: 302 }, text: 'second' });
    await eventually(() => telegram.chatMessages(302).length === 2 && !telegram.chatMessages(302)[1]!.text.endsWith('…'), {
      what: 'the second reply',
    });
    expect(telegram.webhookDeliveries().filter((d) => d.updateId === update.update_id)).toHaveLength(2);
    expect(telegram.chatMessages(302)).toHaveLength(2);
  });

  it('refuses a missing or wrong secret with 401 and signals nothing', async () => {
    const update = privateUpdate(990_001, 303, 'let me in');
    const attempts: Record<string, string>[] = [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }, { 'x-telegram-bot-api-secret-token': `${secret}x` }];
    for (const headers of attempts) {
      const response = await postUpdate(url, update, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    await expect(engine.temporal.workflow.getHandle('telegram:303').describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('rejects a body that is not an update with 400', async () => {
    const response = await postUpdate(url, { hello: 'world' }, { 'x-telegram-bot-api-secret-token': secret });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/update_id/);
  });
});

describe('the Telegram webhook without a configured secret, with Temporal down', () => {
  let telegram: TelegramServer;
  const keyPrefix = `test-hook-${Date.now()}:`;

  beforeAll(async () => {
    telegram = await startTelegramServer({ botUsername: 'down_bot' });
  });
  afterAll(async () => {
    await telegram?.close();
  });

  it('generates a secret, keeps it encrypted across restarts, and answers non-2xx while Temporal is unreachable', async () => {
    const deadTemporal = `127.0.0.1:${await freePort()}`;
    const encryptionKeys = generateKeySpec('hook');
    const first = await webhookEngine(telegram, { temporalAddress: deadTemporal, keyPrefix, encryptionKeys });
    let generated: string | undefined;
    try {
      generated = await eventually(() => telegram.webhook()?.secretToken, { what: 'the registered secret' });
      expect(generated.length).toBeGreaterThanOrEqual(32);
      const stored = await first.engine.redis.get(`${keyPrefix}tg:webhook-secret`);
      expect(stored).toBeTruthy();
      expect(stored).not.toContain(generated);
      const update = privateUpdate(990_002, 304, 'anyone?');
      const response = await postUpdate(first.url, update, { 'x-telegram-bot-api-secret-token': generated });
      // Telegram redelivers anything but 2xx.
      expect(response.status).toBe(503);
    } finally {
      await first.engine.stop();
    }
    const second = await webhookEngine(telegram, { temporalAddress: deadTemporal, keyPrefix, encryptionKeys });
    try {
      await eventually(() => telegram.calls('getWebhookInfo').length >= 2, { what: 'the second start-up' });
      // The URL changed (a new port), so it registers again, with the secret it kept.
      await eventually(() => telegram.webhook()?.url === second.url, { what: 'the new registration' });
      expect(telegram.webhook()?.secretToken).toBe(generated);
    } finally {
      await second.engine.stop();
    }
  }, 60_000);
});

describe('the Telegram webhook on a TLS port of its own', () => {
  let telegram: TelegramServer;
  let certificate: Certificate;
  let engine: Engine;
  let url: string;

  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    telegram = await startTelegramServer({ botUsername: 'port_bot', webhookCa: certificate.pem });
    const port = await freePort();
    url = `https://localhost:${port}/telegram/webhook`;
    engine = await startEngine({
      env: {
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_WEBHOOK_URL: url,
        TELEGRAM_WEBHOOK_SECRET: secret,
        TELEGRAM_WEBHOOK_PORT: String(port),
        TLS_CERT_FILE: certificate.certFile,
        TLS_KEY_FILE: certificate.keyFile,
      },
    });
    await eventually(() => telegram.webhook()?.url === url, { what: 'the webhook registration' });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await telegram?.close();
    certificate?.remove();
  });

  it('answers updates Telegram posts over HTTPS to that port', async () => {
    expect(engine.api.telegramWebhookUrl).toBe(url.replace('localhost', '127.0.0.1'));
    const update = telegram.userSends({ from: { id: 311 }, text: 'over tls' });
    await eventually(() => telegram.chatMessages(311).some((m) => !m.text.endsWith('…')), { what: 'the reply' });
    expect(telegram.webhookDeliveries().filter((d) => d.updateId === update.update_id).map((d) => d.status)).toEqual([200]);
  });

  it('serves only the webhook there, and no webhook on the API port', async () => {
    const onApiPort = await postOverTls(`${engine.api.url}/telegram/webhook`, certificate.pem, privateUpdate(990_003, 312, 'hi'));
    expect(onApiPort.status).toBe(404);
    const apiOnWebhookPort = await postOverTls(url.replace('/telegram/webhook', '/api/v1/chat'), certificate.pem, { text: 'hi' });
    expect(apiOnWebhookPort.status).toBe(404);
    expect(apiOnWebhookPort.body).toMatch(/POST \/telegram\/webhook only/);
  });
});

/** POST JSON over HTTPS trusting `ca` (with the right secret, so only the route decides the status). */
function postOverTls(url: string, ca: Buffer, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret };
    request(url, { method: 'POST', ca, headers, servername: 'localhost' }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    })
      .once('error', reject)
      .end(JSON.stringify(body));
  });
}
