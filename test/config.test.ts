import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversationSettings, loadConfig, secretsOf } from '../lib/config';
import { ConfigError } from '../lib/errors';

function files(app: string, model: string) {
  const dir = mkdtempSync(join(tmpdir(), 'aac-config-'));
  writeFileSync(join(dir, 'app.yaml'), app);
  writeFileSync(join(dir, 'model.yaml'), model);
  return { APP_CONFIG: join(dir, 'app.yaml'), MODEL_CONFIG: join(dir, 'model.yaml'), dir };
}

const provider = (extra: string) =>
  `providers:\n  - name: main\n    type: openai-compatible\n    endpoint: http://127.0.0.1:1/v1\n    model: m\n${extra}`;

describe('configuration', () => {
  it('when nothing is configured then the defaults run the dev provider on port 3000', () => {
    const { dir, ...env } = files('', '');
    const config = loadConfig(env, dir);
    expect(config.usingDevProvider).toBe(true);
    expect(config.model.providers.map((p) => p.type)).toEqual(['echo']);
    expect(config.api.port).toBe(3000);
    expect(config.conversation.idleTimeout).toBe(30 * 60_000);
    expect(config.archiveDir).toBe(join(dir, 'data', 'archive'));
    expect(Object.isFrozen(config.api)).toBe(true);
  });

  it('when parking is off (the default) then conversations park at their idle timeout, that is never; when set, after it', () => {
    const { dir, ...env } = files('', '');
    expect(conversationSettings(loadConfig(env, dir)).parkAfterMs).toBe(30 * 60_000);
    expect(conversationSettings(loadConfig({ ...env, CONVERSATION_PARK_AFTER: 'off' }, dir)).parkAfterMs).toBe(30 * 60_000);
    expect(conversationSettings(loadConfig({ ...env, CONVERSATION_PARK_AFTER: '10m' }, dir)).parkAfterMs).toBe(10 * 60_000);
    expect(() => loadConfig({ ...env, CONVERSATION_PARK_AFTER: 'soon' }, dir)).toThrow(/CONVERSATION_PARK_AFTER/);
  });

  it('when IDLE_CLOSES_PER_SECOND is unset then each worker closes at most 20 idle conversations a second; a bad value is named', () => {
    const { dir, ...env } = files('', '');
    expect(loadConfig(env, dir).worker.idleClosesPerSecond).toBe(20);
    expect(loadConfig({ ...env, IDLE_CLOSES_PER_SECOND: '50' }, dir).worker.idleClosesPerSecond).toBe(50);
    expect(() => loadConfig({ ...env, IDLE_CLOSES_PER_SECOND: '0' }, dir)).toThrow(/IDLE_CLOSES_PER_SECOND/);
  });

  it('when a provider references an unset variable then it is skipped and named', () => {
    const env = files('', provider('    api_key: ${MY_KEY}\n'));
    const skipped = loadConfig(env);
    expect(skipped.usingDevProvider).toBe(true);
    expect(skipped.skippedProviders).toEqual([{ name: 'main', missing: ['MY_KEY'] }]);
    const used = loadConfig({ ...env, MY_KEY: 'sk-1' });
    expect(used.model.providers[0]).toMatchObject({ name: 'main', apiKey: 'sk-1', maxConcurrency: 10 });
  });

  it('when a secret is given as NAME_FILE then it is read from that file', () => {
    const env = files('', '');
    const secret = join(env.dir, 'secret');
    writeFileSync(secret, 's3cret\n');
    const config = loadConfig({ ...env, S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'bucket', S3_SECRET_ACCESS_KEY_FILE: secret });
    expect(config.archive.s3.secretAccessKey).toBe('s3cret');
  });

  it('when several values are wrong then every problem is reported at once, naming the variable', () => {
    const env = files('api:\n  port: 3000\n  colour: blue\n', provider('    temperature: 9\n'));
    let error: unknown;
    try {
      loadConfig({ ...env, PORT: 'abc', CONVERSATION_IDLE_TIMEOUT: 'soon' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/api\.port \(PORT\)/);
    expect(problems).toMatch(/CONVERSATION_IDLE_TIMEOUT/);
    expect(problems).toMatch(/colour/);
    expect(problems).toMatch(/temperature/);
  });

  it('when the Telegram settings are wrong then each problem names its variable', () => {
    const env = files('telegram:\n  command_prefix: "go"\n', '');
    const problems = () => {
      try {
        loadConfig({ ...env, TELEGRAM_BOT_TOKEN: 'not a token', TELEGRAM_WEBHOOK_SECRET: 'has spaces' });
      } catch (e) {
        return (e as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(problems()).toMatch(/telegram\.token \(TELEGRAM_BOT_TOKEN\): expected a bot token/);
    expect(problems()).toMatch(/telegram\.commandPrefix: use 1-3 punctuation/);
    expect(problems()).toMatch(/TELEGRAM_WEBHOOK_SECRET/);
    expect(() => loadConfig({ ...files('', ''), TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/telegram/webhook' })).toThrow(
      /TELEGRAM_WEBHOOK_URL \(telegram\.webhook\.url\) needs TELEGRAM_BOT_TOKEN/,
    );
    const config = loadConfig({ ...files('', ''), TELEGRAM_BOT_TOKEN: '123456:ABC-def_1' });
    expect(config.telegram).toMatchObject({ token: '123456:ABC-def_1', apiRoot: 'https://api.telegram.org', commandPrefix: '/' });
  });

  it('when tracing is configured then its endpoint, service name and headers are read, and a malformed header list is named', () => {
    const { dir, ...env } = files('', '');
    expect(loadConfig(env, dir).tracing).toEqual({ headers: {} });
    const traced = loadConfig({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'chat', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0ken-value,x-team=ai' }, dir);
    expect(traced.tracing).toEqual({ endpoint: 'http://collector:4318', serviceName: 'chat', headers: { authorization: 'Bearer t0ken-value', 'x-team': 'ai' } });
    expect(secretsOf(traced)).toContain('Bearer t0ken-value');
    expect(() => loadConfig({ ...env, OTEL_EXPORTER_OTLP_HEADERS: 'authorization' }, dir)).toThrow(/tracing\.headers \(OTEL_EXPORTER_OTLP_HEADERS\)/);
  });

  it('when a named config file is missing then it says which', () => {
    expect(() => loadConfig({ MODEL_CONFIG: '/nonexistent/model.yaml' })).toThrow(/\/nonexistent\/model.yaml: file not found/);
  });
});
