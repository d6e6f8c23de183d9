/**
 * APP_ENV=production refuses to start rather than run unsafe: each refusal names its problem, and all problems
 * are reported at once.
 */
import { describe, expect, it } from 'vitest';
import { start as startApi } from '../api/main';
import { loadConfig } from '../lib/config';
import { generateKeySpec } from '../lib/key-ring';
import { testEnvironment } from './support/engine';

const realModel = [{ name: 'remote', type: 'openai-compatible', endpoint: 'https://models.example/v1', model: 'm' }];

function production(overrides: Record<string, string> = {}, providers: Record<string, unknown>[] = realModel) {
  return testEnvironment({ providers, env: { APP_ENV: 'production', ENCRYPTION_KEYS: generateKeySpec('k1'), CODEC_LISTEN: '', ...overrides } });
}

describe('APP_ENV=production start-up guards', () => {
  it('when everything a production run needs is set then the configuration loads', () => {
    expect(loadConfig(production()).mode).toBe('production');
    expect(loadConfig(production({ CODEC_LISTEN: '10.0.0.5:3001' })).codec.listen).toBe('10.0.0.5:3001');
  });

  it('when no encryption keys are set then it refuses: text would be stored in plaintext', () => {
    expect(() => loadConfig(production({ ENCRYPTION_KEYS: '' }))).toThrow(/ENCRYPTION_KEYS is required when APP_ENV=production/);
  });

  it('when no model provider is usable then it refuses rather than let the dev provider echo', () => {
    const skipped = [{ name: 'openai', type: 'openai-compatible', endpoint: 'https://api.openai.com/v1', model: 'm', api_key: '${NO_SUCH_KEY}' }];
    expect(() => loadConfig(production({}, []))).toThrow(/needs a real model provider/);
    expect(() => loadConfig(production({}, skipped))).toThrow(/openai needs NO_SUCH_KEY/);
  });

  it.each(['0.0.0.0:3001', '[::]:3001', '203.0.113.7:3001', 'codec.example.com:3001'])(
    'when the codec server would listen on the public address %s then it refuses',
    (listen) => {
      expect(() => loadConfig(production({ CODEC_LISTEN: listen }))).toThrow(/codec server decrypts every payload/);
    },
  );

  it('when no authentication is configured then the API refuses to start', async () => {
    await expect(startApi(loadConfig(production({ AUTH_JWT_SECRET: '' })))).rejects.toThrow(/AUTH_JWT_SECRET or AUTH_JWKS_URL is required/);
  });

  it('when several things are wrong then one start names them all', () => {
    const problems = () => loadConfig(production({ ENCRYPTION_KEYS: '', CODEC_LISTEN: '0.0.0.0:3001' }, []));
    expect(problems).toThrow(/ENCRYPTION_KEYS[\s\S]*real model provider|real model provider[\s\S]*ENCRYPTION_KEYS/);
    expect(problems).toThrow(/codec server/);
  });
});
