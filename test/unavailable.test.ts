import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../scripts/temporal-dev-server';
import { startEngine, type Engine } from './support/engine';
import { freePort } from '../lib/free-ports';
import { testServices } from './support/services';

describe('when a dependency is down', () => {
  let temporal: DevServer;
  let engine: Engine;
  beforeAll(async () => {
    temporal = await startDevServer({ cli: testServices().temporalCliPath, port: await freePort(), fast: true, log: () => {} });
    engine = await startEngine({ temporalAddress: temporal.address, worker: false });
  });
  afterAll(async () => {
    await engine?.stop();
    await temporal?.child.stop(5000);
  });

  it('when Temporal is stopped then chat answers 503 problem+json (no hang, no 500) and readiness says why', async () => {
    await temporal.child.stop(5000);
    const response = await engine.post('/api/v1/chat', { conversationId: 'down', text: 'anyone there?' });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect((await response.json()).detail).toMatch(/Temporal is unavailable/);
    expect((await engine.get('/api/v1/conversations/down')).status).toBe(503);

    const ready = await engine.get('/readyz');
    expect(ready.status).toBe(503);
    const body = await ready.json();
    expect(body.checks.redis).toBe('ok');
    expect(body.checks.temporal).not.toBe('ok');
    expect((await engine.get('/healthz')).status).toBe(200);
  });

  it('when Redis is unreachable then chat answers 503 problem+json', async () => {
    const noRedis = await startEngine({ redisUrl: `redis://127.0.0.1:${await freePort()}`, worker: false });
    try {
      const response = await noRedis.post('/api/v1/chat', { conversationId: 'down', text: 'anyone there?' });
      expect(response.status).toBe(503);
      expect((await response.json()).detail).toMatch(/redis is unavailable/i);
      expect((await noRedis.get('/readyz')).status).toBe(503);
    } finally {
      await noRedis.stop();
    }
  });
});
