/**
 * The seed's deployment guide, followed word for word: its model file (no `model:`), its `storage:` block and its
 * `telegram.webhook` block. The snippets below are written as the guide writes them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withServedModels } from '../activities/served-models';
import { loadConfig } from '../lib/config';
import { ConfigError } from '../lib/errors';
import { createLogger } from '../lib/logger';
import { startEngine, type Engine } from './support/engine';
import { startOpenAiServer, type OpenAiServer } from '../scripts/simulators/openai-server';

const seedModelFile = (endpoint: string) => `providers:
  - name: openai
    type: openai-compatible
    endpoint: ${endpoint}
    api_key: \${OPENAI_API_KEY}
    max_tokens: 2048
    temperature: 0.7
`;

const seedAppFile = `storage:
  redis:
    host: localhost
    port: 6379
    db: 0
  object_storage:
    endpoint: https://s3.amazonaws.com
    bucket: chat-history
    access_key: \${S3_ACCESS_KEY}
    secret_key: \${S3_SECRET_KEY}

telegram:
  token: \${TELEGRAM_BOT_TOKEN}
  webhook:
    enabled: true
    port: 8443
  command_prefix: "/"
`;

function files(app: string, model = '') {
  const dir = mkdtempSync(join(tmpdir(), 'aac-seed-'));
  writeFileSync(join(dir, 'app.yaml'), app);
  writeFileSync(join(dir, 'model.yaml'), model);
  return { APP_CONFIG: join(dir, 'app.yaml'), MODEL_CONFIG: join(dir, 'model.yaml') };
}

const problemsOf = (load: () => unknown): string => {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  return '';
};

const secrets = {
  OPENAI_API_KEY: 'sk-seed',
  S3_ACCESS_KEY: 'seed-access',
  S3_SECRET_KEY: 'seed-secret',
  TELEGRAM_BOT_TOKEN: '123456:seed-token',
  TELEGRAM_WEBHOOK_URL: 'https://bot.example.com:8443/telegram/webhook',
};

describe("the seed's configuration files", () => {
  it('when the seed app file is used as written then its storage and telegram blocks become the settings they name', () => {
    const config = loadConfig({ ...files(seedAppFile, seedModelFile('https://api.openai.com/v1')), ...secrets });
    expect(config.redis.url).toBe('redis://localhost:6379/0');
    expect(config.archive.s3).toMatchObject({
      endpoint: 'https://s3.amazonaws.com', bucket: 'chat-history', accessKeyId: 'seed-access', secretAccessKey: 'seed-secret',
    });
    expect(config.telegram).toMatchObject({ token: '123456:seed-token', commandPrefix: '/' });
    expect(config.telegram.webhook).toMatchObject({ url: secrets.TELEGRAM_WEBHOOK_URL, port: 8443 });
    expect(config.model.providers).toEqual([expect.objectContaining({ name: 'openai', apiKey: 'sk-seed', maxTokens: 2048 })]);
    expect(config.model.providers[0]!.model).toBeUndefined();
    expect(config.usingDevProvider).toBe(false);
  });

  it('when the webhook is enabled but nothing says where Telegram should post then start-up names TELEGRAM_WEBHOOK_URL', () => {
    const { TELEGRAM_WEBHOOK_URL: _, ...withoutUrl } = secrets;
    expect(problemsOf(() => loadConfig({ ...files(seedAppFile), ...withoutUrl }))).toMatch(
      /telegram\.webhook\.enabled is true.*set TELEGRAM_WEBHOOK_URL/,
    );
  });

  it('when the webhook is disabled then the bot polls, whatever URL and port the file gives', () => {
    const app = seedAppFile.replace('enabled: true', 'enabled: false\n    url: https://bot.example.com/telegram/webhook');
    const config = loadConfig({ ...files(app), TELEGRAM_BOT_TOKEN: secrets.TELEGRAM_BOT_TOKEN });
    expect(config.telegram.webhook).toEqual({});
    expect(problemsOf(() => loadConfig(files(app.replace('enabled: false', 'enabled: sometimes'))))).toMatch(/telegram\.webhook\.enabled: expected true or false/);
  });

  it('when a variable the app file references is unset then that setting stays unset: no bot token, no Telegram', () => {
    const config = loadConfig(files(seedAppFile.replace('enabled: true', 'enabled: false')));
    expect(config.telegram.token).toBeUndefined();
    expect(config.archive.s3.accessKeyId).toBeUndefined();
  });

  it('when a setting is given both the seed way and the project way then it is refused, not guessed', () => {
    const app = 'storage:\n  redis:\n    host: cache\n    db: 2\nredis:\n  url: redis://elsewhere:6379\n';
    expect(problemsOf(() => loadConfig(files(app)))).toMatch(/storage\.redis and redis\.url both set url/);
    expect(problemsOf(() => loadConfig(files('storage:\n  redis:\n    port: 99999\n  queue: {}\n')))).toMatch(/storage\.redis\.port[\s\S]*queue/);
    // The environment still wins over either file name.
    expect(loadConfig({ ...files('storage:\n  redis:\n    host: cache\n    db: 2\n'), REDIS_URL: 'redis://other:6380' }).redis.url).toBe(
      'redis://other:6380',
    );
  });
});

describe('a provider configured without a model', () => {
  let one: OpenAiServer;
  let several: OpenAiServer;
  let engine: Engine | undefined;
  const logger = createLogger({ level: 'silent', name: 'test' });
  const seedProvider = (server: OpenAiServer) => ({
    name: 'openai', type: 'openai-compatible' as const, endpoint: server.url, apiKey: 'sk-seed',
    maxTokens: 2048, temperature: 0.7, maxConcurrency: 10, timeout: 10_000,
  });

  beforeAll(async () => {
    [one, several] = await Promise.all([
      startOpenAiServer({ apiKey: 'sk-seed', models: ['served-model'] }),
      startOpenAiServer({ apiKey: 'sk-seed', models: ['gpt-a', 'gpt-b'] }),
    ]);
  });
  afterAll(async () => {
    await engine?.stop();
    await Promise.all([one?.close(), several?.close()]);
  });

  it('when its endpoint serves one model then the worker answers with that model', async () => {
    engine = await startEngine({
      providers: [{ name: 'openai', type: 'openai-compatible', endpoint: one.url, api_key: 'sk-seed', max_tokens: 2048, temperature: 0.7 }],
    });
    const response = await engine.post('/api/v1/chat', { text: 'hello from the seed config' });
    const { reply } = await response.json();
    expect(reply).toMatchObject({ kind: 'answer', model: 'served-model' });
    expect(one.chatRequests.at(-1)?.body?.model).toBe('served-model');
  });

  it('when its endpoint serves several models or cannot be reached then start-up fails naming the provider and the choices', async () => {
    await expect(withServedModels([seedProvider(several)], logger)).rejects.toThrow(
      /model provider openai: no model is configured \(set `model` in the model file\).*serves several \(gpt-a, gpt-b\); name one/,
    );
    const wrongKey = { ...seedProvider(one), apiKey: 'sk-wrong' };
    await expect(withServedModels([wrongKey], logger)).rejects.toThrow(/model provider openai: no model is configured.*401/);
    const named = { ...seedProvider(several), model: 'gpt-b' };
    expect(await withServedModels([named], logger)).toEqual([named]);
  });
});
