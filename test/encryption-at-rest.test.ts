import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobStore } from '../lib/blob-store';
import { generateKeySpec } from '../lib/key-ring';
import { searchAttributes } from '../lib/search-attributes';
import { startDevServer, type DevServer } from '../scripts/temporal-dev-server';
import { startEngine, type Engine } from './support/engine';
import { eventually } from './support/eventually';
import { freePort } from '../lib/free-ports';
import { testServices } from './support/services';

const run = promisify(execFile);
const keyRing = generateKeySpec('at-rest');
const conversations = ['at-rest-s3', 'at-rest-dir'] as const;
const marker = `secret-marker-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** Every file under `dir`, as one buffer: what an attacker with the disk would read. */
function rawBytes(dir: string): Buffer {
  // Every file in every folder below, whatever the backend's layout.
  return Buffer.concat(
    readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? rawBytes(join(dir, entry.name)) : readFileSync(join(dir, entry.name)),
    ),
  );
}

/** The payload bytes in a `temporal workflow show -o json` history (base64 `data` fields), as text. */
function payloadTexts(json: string): string {
  const texts: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'data' && typeof value === 'string') texts.push(Buffer.from(value, 'base64').toString('utf8'));
        else visit(value);
      }
    }
  };
  visit(JSON.parse(json));
  return texts.join('\n');
}

/** Every value under `prefix` in Redis, whatever its type. */
async function redisValues(engine: Engine, prefix: string): Promise<string[]> {
  const values: string[] = [];
  for (const key of await engine.redis.keys(`${prefix}*`)) {
    const type = await engine.redis.type(key);
    if (type === 'string') values.push((await engine.redis.get(key)) ?? '');
    if (type === 'hash') values.push(JSON.stringify(await engine.redis.hgetall(key)));
    if (type === 'stream') values.push(JSON.stringify(await engine.redis.xrange(key, '-', '+')));
  }
  return values;
}

describe('message text at rest', () => {
  let temporal: DevServer;
  let temporalDir: string;
  const engines: Engine[] = [];
  beforeAll(async () => {
    temporalDir = mkdtempSync(join(tmpdir(), 'aac-at-rest-'));
    temporal = await startDevServer({
      cli: testServices().temporalCliPath,
      port: await freePort(),
      dbFile: join(temporalDir, 'temporal.db'),
      fast: true,
      searchAttributes,
      log: () => {},
    });
    for (const archive of ['s3', 'directory'] as const) {
      engines.push(
        await startEngine({
          temporalAddress: temporal.address,
          archive,
          app: { conversation: { archive_every_turns: 1 } },
          env: { ENCRYPTION_KEYS: keyRing },
        }),
      );
    }
    for (const [i, engine] of engines.entries()) {
      const response = await engine.post('/api/v1/chat', { conversationId: conversations[i], text: `remember ${marker}` });
      expect((await response.json()).reply.text).toContain(marker);
    }
  });
  afterAll(async () => {
    for (const engine of engines) await engine.stop();
    await temporal?.child.stop(5000);
    rmSync(temporalDir, { recursive: true, force: true });
  });

  it('when a message was sent then the API still shows its text', async () => {
    for (const [i, engine] of engines.entries()) {
      const history = await eventually(async () => {
        const page = await (await engine.get(`/api/v1/conversations/${conversations[i]}/messages`)).json();
        return page.messages?.length === 2 && page;
      });
      expect(history.messages[0].text).toBe(`remember ${marker}`);
    }
  });

  it("when Temporal's SQLite file is read raw then the text is not in it, though the conversation is", () => {
    const bytes = rawBytes(temporalDir);
    expect(bytes.includes('api:anonymous:at-rest-s3')).toBe(true);
    expect(bytes.includes(marker)).toBe(false);
  });

  it('when Redis is read raw then the text is in no value', async () => {
    for (const engine of engines) {
      const values = await redisValues(engine, engine.config.redis.keyPrefix);
      expect(values.length).toBeGreaterThan(2);
      expect(values.filter((value) => value.includes(marker))).toEqual([]);
    }
  });

  it('when the archive is read raw then the text is in no object, in S3 or in the directory', async () => {
    const [s3Engine, directoryEngine] = engines as [Engine, Engine];
    // The blob store sits below the encryption: it returns the objects exactly as stored.
    const s3 = createBlobStore(s3Engine.config);
    const keys = await eventually(async () => {
      const listed = await s3.list('conversations/');
      return listed.length > 0 && listed;
    });
    for (const key of keys) expect(await s3.get(key)).not.toContain(marker);
    // Archived right after the reply was delivered: give that a moment.
    const bytes = await eventually(() => {
      const written = rawBytes(directoryEngine.config.archiveDir);
      return written.length > 0 && written;
    });
    expect(bytes.includes(marker)).toBe(false);
  });

  it('when an operator reads the history through the codec server then the text is readable, and only then', async () => {
    const { temporalCliPath } = testServices();
    // Asynchronously: the codec server answering the CLI runs in this very process.
    const show = async (...extra: string[]) =>
      (await run(temporalCliPath, ['workflow', 'show', '--address', temporal.address, '-w', 'api:anonymous:at-rest-s3', '-o', 'json', ...extra])).stdout;
    expect(payloadTexts(await show())).not.toContain(marker);
    const codec = ['--codec-endpoint', engines[0]!.api.codecUrl!];
    const operator = (await engines[0]!.as('olga', 'operator')).authorization!;
    expect(payloadTexts(await show(...codec, '--codec-auth', operator))).toContain(marker);
    // A plain user's token is refused by the codec server: the CLI gets nothing decoded.
    const user = (await engines[0]!.as('alice')).authorization!;
    const refused = await show(...codec, '--codec-auth', user).catch((error: { stdout?: string; stderr?: string }) => `${error.stdout}${error.stderr}`);
    expect(refused).not.toContain(marker);
  });
});
