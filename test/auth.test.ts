/**
 * Who may do what: every documented route against every kind of caller (generated from the OpenAPI document, so a
 * new route cannot go unchecked), tokens from a real OpenID provider with key rotation, and the development
 * credentials `npm start` and `npm run token` hand out.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { createBlobStore } from '../lib/blob-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackHandle } from '../scripts/stack';
import { startEngine, testEnvironment, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { startOidcProvider, type OidcServer } from './support/oidc-provider';
import { startTestStack } from './support/stack';

const run = promisify(execFile);
const issuer = 'https://issuer.test';
const audience = 'ai-assistant-core-test';

type Caller = 'none' | 'badSignature' | 'expired' | 'wrongIssuer' | 'wrongAudience' | 'algNone' | 'alice' | 'bob' | 'operator' | 'admin';
const refused = { none: 401, badSignature: 401, expired: 401, wrongIssuer: 401, wrongAudience: 401, algNone: 401 } as const;

/** Expected status per route, for alice's conversation "matrix" (others name her with ?user=alice). */
const expected: Record<string, Record<Caller, number>> = {
  'POST /api/v1/chat': { ...refused, alice: 202, bob: 202, operator: 202, admin: 202 }, // each writes to their own
  // ?user=alice: an operator sees her list; a user asking for someone else's gets an empty one.
  'GET /api/v1/conversations': { ...refused, alice: 200, bob: 200, operator: 200, admin: 200 },
  'GET /api/v1/conversations/{id}': { ...refused, alice: 200, bob: 404, operator: 200, admin: 200 },
  'GET /api/v1/conversations/{id}/messages': { ...refused, alice: 200, bob: 404, operator: 200, admin: 200 },
  'GET /api/v1/conversations/{id}/events': { ...refused, alice: 200, bob: 404, operator: 200, admin: 200 },
  'POST /api/v1/conversations/{id}/reset': { ...refused, alice: 202, bob: 404, operator: 403, admin: 202 },
  'GET /api/v1/audit': { ...refused, alice: 403, bob: 403, operator: 403, admin: 200 },
  'DELETE /api/v1/conversations/{id}': { ...refused, alice: 403, bob: 404, operator: 403, admin: 200 },
};

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication and roles over HS256 tokens', () => {
  let engine: Engine;
  const tokens = {} as Record<Caller, string | undefined>;

  beforeAll(async () => {
    // Every turn archived at once, so that a deletion has transcript segments to remove.
    engine = await startEngine({ app: { conversation: { archive_every_turns: 1 } }, env: { AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience } });
    const secret = new TextEncoder().encode(testEnvironmentSecret(engine));
    const sign = (claims: Record<string, unknown>, key = secret) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(key);
    const valid = (sub: string, roles: string[]) => ({ sub, roles, iss: issuer, aud: audience, exp: Math.floor(Date.now() / 1000) + 600 });
    tokens.none = undefined;
    tokens.alice = await sign(valid('alice', ['user']));
    tokens.bob = await sign(valid('bob', []));
    tokens.operator = await sign(valid('olga', ['operator']));
    tokens.admin = await sign(valid('ada', ['admin', 'user']));
    tokens.badSignature = await sign(valid('alice', ['admin']), new TextEncoder().encode('another-secret-another-secret-another'));
    tokens.expired = await sign({ ...valid('alice', []), exp: Math.floor(Date.now() / 1000) - 120 });
    tokens.wrongIssuer = await sign({ ...valid('alice', []), iss: 'https://elsewhere.test' });
    tokens.wrongAudience = await sign({ ...valid('alice', []), aud: 'another-service' });
    tokens.algNone = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(valid('alice', ['admin']))}.`;

    const created = await engine.post('/api/v1/chat', { conversationId: 'matrix', text: 'hello' }, auth('alice'));
    expect(created.status).toBe(200);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const auth = (caller: Caller): Record<string, string> => (tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : { authorization: '' });

  it('when each documented route is called by each kind of caller then the status is the one the role allows', async () => {
    const document = (await (await fetch(`${engine.api.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    // The deletion last: the routes before it need alice's conversation.
    const routes = Object.entries(document.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
      .sort((a, b) => Number(a.startsWith('DELETE')) - Number(b.startsWith('DELETE')));
    expect(routes.sort()).toEqual(Object.keys(expected).sort());

    const seen: Record<string, Record<string, number>> = {};
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      seen[route] = {};
      for (const caller of Object.keys(expected[route]!) as Caller[]) {
        const url = `${engine.api.url}${path.replace('{id}', 'matrix')}?user=alice`;
        const body = route === 'POST /api/v1/chat' ? JSON.stringify({ conversationId: 'matrix', text: `from ${caller}`, wait: false }) : undefined;
        const response = await fetch(url, {
          method,
          headers: { ...auth(caller), ...(body ? { 'content-type': 'application/json' } : {}) },
          body,
          signal: AbortSignal.timeout(20_000),
        });
        seen[route]![caller] = response.status;
        if (response.status >= 400) expect(response.headers.get('content-type'), `${route} as ${caller}`).toBe('application/problem+json');
        await response.body?.cancel();
      }
    }
    expect(seen).toEqual(expected);
    // The admin deleted it: alice starts it again for the tests below.
    expect((await engine.post('/api/v1/chat', { conversationId: 'matrix', text: 'hello again' }, auth('alice'))).status).toBe(200);
  });

  it('when an admin deletes a conversation then its run ends and its Redis keys and archived transcript are gone', async () => {
    const alice = auth('alice');
    for (const text of ['one', 'two']) expect((await engine.post('/api/v1/chat', { conversationId: 'doomed', text }, alice)).status).toBe(200);
    const workflowId = 'api:alice:doomed';
    const blobs = createBlobStore(engine.config);
    const segments = () => blobs.list(`conversations/${encodeURIComponent(workflowId)}/`);
    await eventually(async () => (await segments()).length > 0, { what: 'archived transcript segments' });

    const deleted = await engine.delete('/api/v1/conversations/doomed?user=alice', auth('admin'));
    expect(deleted.status).toBe(200);
    const body = await deleted.json();
    expect(body.deleted.runs).toBeGreaterThanOrEqual(1);
    expect(body.deleted.transcriptSegments).toBeGreaterThanOrEqual(1);

    expect(await segments()).toEqual([]);
    expect(await engine.redis.exists(`${engine.config.redis.keyPrefix}conv:{${workflowId}}:events`)).toBe(0);
    // The run is ended at once; Temporal deletes the runs' histories in the background, when it gets to it.
    expect((await engine.temporal.workflow.getHandle(workflowId).describe()).status.name).toBe('TERMINATED');
    const after = await (await engine.get('/api/v1/conversations/doomed', alice)).json();
    expect([after.status, after.turnCount ?? 0, after.recentTurns ?? []]).toEqual(after.status === 404 ? [404, 0, []] : ['closed', 0, []]);
  });

  it("when a user names another user's conversation then the 404 is byte for byte the one for a missing conversation", async () => {
    const carol = await engine.as('carol');
    const notYours = await engine.get('/api/v1/conversations/matrix?user=alice', auth('bob'));
    const missing = await engine.get('/api/v1/conversations/matrix', carol); // carol has no "matrix"
    expect([notYours.status, missing.status]).toEqual([404, 404]);
    expect(notYours.headers.get('content-type')).toBe(missing.headers.get('content-type'));
    expect(await notYours.text()).toBe(await missing.text());
  });

  it('when a token is missing or refused then the 401 challenges with WWW-Authenticate and says why', async () => {
    const missing = await engine.get('/api/v1/conversations/matrix', { authorization: '' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="ai-assistant-core"');

    const expired = await engine.get('/api/v1/conversations/matrix', auth('expired'));
    expect(expired.headers.get('www-authenticate')).toBe(
      'Bearer realm="ai-assistant-core", error="invalid_token", error_description="the token has expired"',
    );
    expect((await expired.json()).detail).toBe('The token was refused: the token has expired.');

    const wrongAudience = await engine.get('/api/v1/conversations/matrix', auth('wrongAudience'));
    expect((await wrongAudience.json()).detail).toMatch(/"aud" claim/);
    const basic = await engine.get('/api/v1/conversations/matrix', { authorization: 'Basic YWxpY2U6c2VjcmV0' });
    expect(basic.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('when npm run token signs for a user and role then the API accepts it as that user with that role', async () => {
    const env = { ...process.env, ...engineEnv(engine) };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--user', 'olga', '--role', 'admin', '--ttl', '5m'], { env });
    const headers = { authorization: `Bearer ${stdout.trim()}` };
    expect((await engine.get('/api/v1/conversations/matrix?user=alice', headers)).status).toBe(200);
    expect((await engine.post('/api/v1/conversations/matrix/reset?user=alice', undefined, headers)).status).toBe(202);

    const bad = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--user', 'olga', '--role', 'root'], { env }).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--role must be one of user, operator, admin/);
  });
});

describe('tokens from an OpenID provider (JWKS)', () => {
  let idp: OidcServer;
  let engine: Engine;

  beforeAll(async () => {
    idp = await startOidcProvider({ audience: 'aac-idp', clients: { ops: ['operator'], 'alice-app': [] } });
    engine = await startEngine({
      worker: false,
      env: {
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: idp.jwksUrl,
        AUTH_ISSUER: idp.issuer,
        AUTH_AUDIENCE: 'aac-idp',
        AUTH_ROLES_CLAIM: 'realm_access.roles',
      },
    });
  });
  afterAll(async () => {
    await engine?.stop();
    await idp?.close();
  });

  const as = async (token: string) => ({ authorization: `Bearer ${token}` });
  // An operator may see others' conversations but not reset them: 403 tells the role was read; a user gets 404.
  const resetSomeone = async (token: string) => (await engine.post('/api/v1/conversations/x/reset?user=someone', undefined, await as(token))).status;

  it("when the provider's tokens arrive then sub is the user and the roles come from realm_access.roles", async () => {
    expect(await resetSomeone(await idp.token('ops'))).toBe(403);
    expect(await resetSomeone(await idp.token('alice-app'))).toBe(404);
    const hs256 = await new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await resetSomeone(hs256)).toBe(401);
  });

  it('when the provider rotates its signing key then tokens with the new key id are accepted without a restart', async () => {
    const before = await idp.token('ops');
    expect(await resetSomeone(before)).toBe(403);
    await idp.rotate();
    const after = await idp.token('ops');
    // The API refetches the key set for an unknown key id, at most every few seconds.
    await eventually(async () => (await resetSomeone(after)) === 403, { what: 'a token signed with the new key accepted', timeoutMs: 30_000 });
    expect(await resetSomeone(before)).toBe(403);
  });
});

describe('development credentials of the launcher', () => {
  let stack: StackHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { ...testEnvironment(), AUTH_JWT_SECRET: '' }; // as npm start with nothing configured
    stack = await startTestStack(env);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('when nothing is configured then data/dev-token signs in as dev, and npm run token signs with the same secret', async () => {
    expect(stack.urls.devToken).toBe(`${env.DATA_DIR}/dev-token`);
    const devToken = readFileSync(stack.urls.devToken!, 'utf8').trim();
    const chat = await fetch(`${stack.urls.api}/api/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId: 'dev-chat', text: 'hi' }),
    });
    expect(chat.status).toBe(200);
    expect(((await chat.json()) as { reply: { text: string } }).reply.text).toContain('hi');

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--user', 'dev', '--role', 'operator'], {
      env: { ...process.env, ...env },
    });
    const snapshot = await fetch(`${stack.urls.api}/api/v1/conversations/dev-chat`, { headers: { authorization: `Bearer ${stdout.trim()}` } });
    expect(snapshot.status).toBe(200);
    expect((await fetch(`${stack.urls.api}/api/v1/conversations/dev-chat`)).status).toBe(401);
  });
});

function engineEnv(engine: Engine): Record<string, string> {
  return { AUTH_JWT_SECRET: testEnvironmentSecret(engine), AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience, DATA_DIR: engine.config.stack.dataDir };
}

function testEnvironmentSecret(engine: Engine): string {
  return engine.config.auth.jwtSecret!;
}
