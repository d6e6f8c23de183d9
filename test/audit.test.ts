/**
 * The audit log: each audited action writes one record, admins page through them, and `npm run audit:verify`
 * catches a stored record that was edited, deleted or moved, naming the first one where the chain breaks. A flood
 * of refusals from one caller makes two records, not one each.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyRingOf } from '../lib/config';
import { createTextCipher } from '../lib/text-cipher';
import { generateKeySpec } from '../lib/key-ring';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';

const run = promisify(execFile);

interface AuditEntry {
  id: string;
  actor: string;
  roles: string[];
  action: string;
  target: string;
  outcome: string;
  requestId: string;
  ip: string;
  prevHash: string;
  hash: string;
}

describe('the audit log', () => {
  let engine: Engine;
  let admin: Record<string, string>;

  beforeAll(async () => {
    engine = await startEngine({ archive: 'directory', env: { ENCRYPTION_KEYS: generateKeySpec('audit'), RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
    admin = await engine.as('ada', 'admin');
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const records = async (): Promise<AuditEntry[]> => {
    const page = await engine.get('/api/v1/audit?limit=500', admin);
    expect(page.status).toBe(200);
    return ((await page.json()) as { records: AuditEntry[] }).records.filter((r) => r.action !== 'audit.read');
  };
  const auditDir = () => join(engine.config.archiveDir, 'audit');
  const verify = () =>
    run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts'], { env: { ...process.env, ...engine.env } }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

  it('when security-relevant actions happen then each writes one record, chained, naming who, what and how it ended', async () => {
    const alice = await engine.as('alice');
    const olga = await engine.as('olga', 'operator');
    expect((await engine.post('/api/v1/chat', { conversationId: 'kept', text: 'hello' }, alice)).status).toBe(200);
    expect((await engine.post('/api/v1/chat', { conversationId: 'kept', text: 'again' }, alice)).status).toBe(429);
    expect((await engine.get('/api/v1/conversations/kept', { authorization: 'Bearer not.a.token' })).status).toBe(401);
    expect((await engine.get('/api/v1/conversations/kept?user=alice', olga)).status).toBe(200);
    expect((await engine.get('/api/v1/conversations/kept?user=alice', await engine.as('bob'))).status).toBe(404);
    expect((await engine.post('/api/v1/conversations/kept/reset?user=alice', undefined, olga)).status).toBe(403);
    expect((await engine.post('/api/v1/conversations/kept/reset', undefined, alice)).status).toBe(202);
    const decoded = await fetch(`${engine.api.codecUrl}/decode`, {
      method: 'POST',
      headers: { ...olga, 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [{ metadata: {}, data: '' }, { metadata: {}, data: '' }] }),
    });
    expect(decoded.status).toBe(200);

    const written = await eventually(async () => {
      const all = await records();
      return all.length >= 7 && all;
    }, { what: 'seven audit records' });
    expect(written.map((r) => [r.actor, r.action, r.target, r.outcome])).toEqual([
      ['alice', 'limit.exceeded', 'POST /api/v1/chat', 'denied'],
      ['(no valid token)', 'auth.token-refused', 'GET /api/v1/conversations/kept: the token is malformed', 'denied'],
      ['olga', 'conversation.read-other', 'api:alice:kept', 'allowed'],
      ['bob', 'role.denied', 'api:alice:kept', 'denied'],
      ['olga', 'role.denied', 'api:alice:kept', 'denied'],
      ['alice', 'conversation.reset', 'api:alice:kept', 'done'],
      ['olga', 'codec.decode', '2 payloads', 'done'],
    ]);
    for (const [index, record] of written.entries()) {
      expect(record.requestId).not.toBe('');
      expect(record.ip).toMatch(/127\.0\.0\.1/);
      if (index > 0) expect(record.prevHash).toBe(written[index - 1]!.hash);
    }
    // Stored encrypted: no actor name in the archive's bytes.
    for (const file of readdirSync(auditDir())) expect(readFileSync(join(auditDir(), file), 'utf8')).not.toContain('olga');
    const intact = await verify();
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/audit chain intact/);
  });

  it('when a stored record is edited, deleted or moved then audit:verify names the first broken record', async () => {
    const files = readdirSync(auditDir()).sort();
    expect(files.length).toBeGreaterThanOrEqual(5);
    const cipher = createTextCipher(keyRingOf(engine.config));
    const path = (file: string) => join(auditDir(), file);
    const id = (file: string) => file.replace('.json', '');

    // Edited: re-encrypted with the right key, so only the chain can tell.
    const original = readFileSync(path(files[2]!), 'utf8');
    const edited = { ...(JSON.parse(cipher.open(original)) as AuditEntry), actor: 'someone-else' };
    writeFileSync(path(files[2]!), cipher.seal(JSON.stringify(edited)));
    expect(await verify()).toMatchObject({ code: 1, stdout: expect.stringContaining(`record ${id(files[2]!)}: its content does not match its hash`) });
    writeFileSync(path(files[2]!), original);

    // Moved: two records swap places.
    const [a, b] = [readFileSync(path(files[1]!), 'utf8'), readFileSync(path(files[3]!), 'utf8')];
    writeFileSync(path(files[1]!), b);
    writeFileSync(path(files[3]!), a);
    expect(await verify()).toMatchObject({ code: 1, stdout: expect.stringContaining(`record ${id(files[1]!)}`) });
    writeFileSync(path(files[1]!), a);
    writeFileSync(path(files[3]!), b);
    expect((await verify()).code).toBe(0);

    // Deleted from the archive: Redis still holds the recent records, and the chain names the hole.
    const away = join(engine.config.archiveDir, 'deleted-record');
    renameSync(path(files[1]!), away);
    expect(await verify()).toMatchObject({ code: 1, stdout: expect.stringContaining(`record ${id(files[1]!)}: missing from the archive`) });
    // Deleted everywhere: the next record no longer follows.
    await engine.redis.del(`${engine.config.redis.keyPrefix}{audit}:log`);
    expect(await verify()).toMatchObject({ code: 1, stdout: expect.stringContaining(`record ${id(files[2]!)}: expected record ${id(files[1]!)}`) });
    rmSync(away);
  });

  it('when one address sends a flood of bad tokens then it makes two records, the second counting the rest', async () => {
    // From an address of its own: the first test's refusal (from 127.0.0.1) may still be in its window.
    const statuses = [];
    for (let i = 0; i < 25; i++) statuses.push(await getFrom('127.0.0.3', `${engine.api.url}/api/v1/conversations/x${i}`, 'Bearer flood.of.tokens'));
    expect(new Set(statuses)).toEqual(new Set([401]));
    const fromFlood = async () => (await records()).filter((r) => r.ip.endsWith('127.0.0.3'));
    // The first at once; the rest when the 10 s window ends.
    const both = await eventually(async () => {
      const found = await fromFlood();
      return found.length === 2 && found;
    }, { what: 'the coalesced record', timeoutMs: 20_000 });
    expect(both.map((r) => [r.action, r.target])).toEqual([
      ['auth.token-refused', 'GET /api/v1/conversations/x0: the token is malformed'],
      ['auth.token-refused', 'GET /api/v1/conversations/x0: the token is malformed; 24 more like it within 10 s'],
    ]);
    expect(both[1]!.requestId).not.toBe(both[0]!.requestId);
  }, 30_000);
});

/** A GET sent from `localAddress` (any 127.x address reaches a loopback listener). */
function getFrom(localAddress: string, url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { localAddress, headers: { authorization } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .once('error', reject)
      .end();
  });
}
