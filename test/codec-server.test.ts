import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySpec } from '../lib/key-ring';
import { startEngine, type Engine, type JsonResponse } from './support/engine';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const uiPayload = { metadata: { encoding: b64('json/plain') }, data: b64('{"text":"hello codec"}') };

describe('codec server for the Temporal UI', () => {
  let engine: Engine;
  let operator: Record<string, string>;
  beforeAll(async () => {
    engine = await startEngine({ env: { ENCRYPTION_KEYS: generateKeySpec('k1') } });
    operator = await engine.as('olga', 'operator');
  });
  afterAll(async () => {
    await engine?.stop();
  });
  const call = (path: string, body: unknown, headers = operator) =>
    fetch(`${engine.api.codecUrl}${path.replace(/^\/codec/, '')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }) as Promise<JsonResponse>;

  it('when the caller is not an operator then the codec server refuses, and the API port has no codec at all', async () => {
    const none = await call('/codec/decode', { payloads: [uiPayload] }, {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="ai-assistant-core"');
    const user = await call('/codec/decode', { payloads: [uiPayload] }, await engine.as('alice'));
    expect(user.status).toBe(403);
    expect((await user.json()).detail).toMatch(/operator role/);
    expect(new URL(engine.api.codecUrl!).port).not.toBe(String(engine.api.port));
    expect((await engine.post('/codec/decode', { payloads: [] })).status).toBe(404);
  });

  it('when the UI encodes then decodes a payload then it gets the original back, encrypted in between', async () => {
    const encoded = await call('/codec/encode', { payloads: [uiPayload] });
    expect(encoded.status).toBe(200);
    const [sealed] = (await encoded.json()).payloads;
    expect(Buffer.from(sealed.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed.metadata['encryption-key-id'], 'base64').toString()).toBe('k1');
    expect(Buffer.from(sealed.data, 'base64').toString()).not.toContain('hello codec');

    const decoded = await call('/codec/decode', { payloads: [sealed, uiPayload] });
    expect(decoded.status).toBe(200);
    expect((await decoded.json()).payloads).toEqual([uiPayload, uiPayload]);
  });

  it('when a payload was too large for Temporal then the UI still reads it: fetched back from the archive and decrypted', async () => {
    const large = { metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify({ text: 'z'.repeat(600_000) })) };
    const encoded = await call('/codec/encode', { payloads: [large] });
    const [reference] = (await encoded.json()).payloads;
    expect(Buffer.from(reference.metadata.encoding, 'base64').toString()).toBe('binary/archive-reference');
    expect(reference.data.length).toBeLessThan(1_000);

    const decoded = await call('/codec/decode', { payloads: [reference] });
    expect((await decoded.json()).payloads).toEqual([large]);
  });

  it('when the UI sends a CORS preflight from its origin then it is allowed', async () => {
    const response = await fetch(`${engine.api.codecUrl}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:8233',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/x-namespace/);
    const stranger = await fetch(`${engine.api.codecUrl}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each([
    ['not JSON', 'payloads'],
    ['payloads not a list', { payloads: 'x' }],
    ['data not base64', { payloads: [{ metadata: {}, data: '***' }] }],
  ])('when the body is %s then the answer is 400 problem+json', async (_, body) => {
    const response = await call('/codec/decode', body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('when an encrypted payload was tampered with then decode answers 400 and the server stays up', async () => {
    const [sealed] = (await (await call('/codec/encode', { payloads: [uiPayload] })).json()).payloads;
    const bytes = Buffer.from(sealed.data, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    const response = await call('/codec/decode', { payloads: [{ ...sealed, data: bytes.toString('base64') }] });
    expect(response.status).toBe(400);
    expect((await response.json()).detail).toMatch(/decrypt|authentic/i);
    expect((await call('/codec/encode', { payloads: [uiPayload] })).status).toBe(200);
  });

  it('when the API runs in production without CODEC_LISTEN then no codec server runs', async () => {
    const production = await startEngine({
      worker: false,
      providers: [{ name: 'remote', type: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1', model: 'm' }],
      env: { APP_ENV: 'production', ENCRYPTION_KEYS: generateKeySpec('k1'), CODEC_LISTEN: '' },
    });
    try {
      expect(production.api.codecUrl).toBeUndefined();
    } finally {
      await production.stop();
    }
  });
});
