/**
 * Schema-driven fuzzing of every documented route (fast-check, seeded and bounded so a failure replays): ids,
 * query strings, bodies shaped like the schema but wrong in every way, and tokens good and bad. Whatever comes in,
 * the answer is never a 5xx, and every error is problem+json. Prints what it tried and the statuses it saw.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from './support/engine';

const seed = 20261201;
const runsPerRoute = 60;

describe('fuzzing every documented route', () => {
  let engine: Engine;
  let tokens: string[];

  beforeAll(async () => {
    engine = await startEngine();
    const valid = [await engine.as('alice'), await engine.as('olga', 'operator'), await engine.as('ada', 'admin')].map((h) => h.authorization!);
    tokens = [...valid, '', 'Bearer', 'Bearer not.a.jwt', `Basic ${Buffer.from('a:b').toString('base64')}`, `${valid[0]}x`];
    expect((await engine.post('/api/v1/chat', { conversationId: 'fuzz', text: 'seed' }, await engine.as('alice'))).status).toBe(200);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const id = fc.oneof(fc.constantFrom('fuzz', 'nobody', 'a', '..', '%00', 'x'.repeat(129)), fc.string({ maxLength: 150 }), fc.stringMatching(/^[A-Za-z0-9._~-]{1,128}$/));
  const anyValue = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
  const query = fc.record(
    { after: fc.oneof(fc.nat(), fc.string({ maxLength: 30 }), fc.constant('1700000000000-0')), limit: fc.oneof(fc.integer({ min: -5, max: 500 }), fc.string({ maxLength: 5 })), user: fc.oneof(fc.constant('alice'), fc.string({ maxLength: 300 })) },
    { requiredKeys: [] },
  );
  const validBody = fc.record({ conversationId: fc.stringMatching(/^[A-Za-z0-9._~-]{1,20}$/), text: fc.string({ minLength: 1, maxLength: 80 }), wait: fc.constant(false) });
  const chatBody = fc.oneof(
    { arbitrary: validBody.map((body) => JSON.stringify(body)), weight: 3 },
    fc.record(
      {
        conversationId: fc.oneof(id, anyValue),
        text: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constant('x'.repeat(16_001)), anyValue),
        messageId: fc.oneof(fc.string({ maxLength: 250 }), anyValue),
        wait: fc.oneof(fc.constant(false), anyValue),
        extra: anyValue,
      },
      { requiredKeys: [] },
    ).map((body) => JSON.stringify(body)),
    fc.json(),
    fc.string({ maxLength: 100 }),
  );
  const headers = () =>
    fc.record({
      authorization: fc.oneof({ arbitrary: fc.constantFrom(...tokens.slice(0, 3)), weight: 4 }, fc.constantFrom(...tokens.slice(3))),
      'content-type': fc.oneof(
        { arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8'), weight: 4 },
        fc.constantFrom('text/plain', 'multipart/form-data', ''),
      ),
      'idempotency-key': fc.option(fc.string({ maxLength: 250 }), { nil: undefined }),
      'last-event-id': fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    });

  it('when any input reaches any route then no answer is a 5xx and every error is problem+json', async () => {
    const document = (await (await fetch(`${engine.api.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
    const statuses: Record<string, Record<number, number>> = {};
    let tried = 0;
    for (const route of routes) {
      const seen: Record<number, number> = (statuses[`${route.method} ${route.path}`] = {});
      await fc.assert(
        fc.asyncProperty(id, query, chatBody, headers(), async (conversation, params, body, sent) => {
          tried += 1;
          const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
          const url = `${engine.api.url}${route.path.replace('{id}', encodeURIComponent(conversation))}?${search}`;
          const cleanHeaders = Object.fromEntries(Object.entries(sent).filter(([, v]) => v !== undefined && /^[\t\x20-\x7e]*$/.test(v))) as Record<string, string>;
          const response = await fetch(url, {
            method: route.method,
            headers: cleanHeaders,
            body: route.method === 'POST' ? body : undefined,
            signal: AbortSignal.timeout(30_000),
          });
          seen[response.status] = (seen[response.status] ?? 0) + 1;
          const type = response.headers.get('content-type') ?? '';
          const text = response.status === 200 && type.startsWith('text/event-stream') ? '' : await response.text();
          await response.body?.cancel().catch(() => undefined);
          if (response.status >= 500) throw new Error(`${route.method} ${url} answered ${response.status}: ${text}`);
          if (response.status >= 400 && !type.startsWith('application/problem+json')) {
            throw new Error(`${route.method} ${url} answered ${response.status} as ${type}: ${text}`);
          }
        }),
        { seed, numRuns: runsPerRoute, endOnFailure: true },
      );
    }
    console.log(`[fuzz] seed ${seed}: ${tried} requests; statuses per route: ${JSON.stringify(statuses)}`);
    expect(tried).toBe(routes.length * runsPerRoute);
  }, 300_000);
});
