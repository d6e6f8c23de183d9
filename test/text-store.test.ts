/** Claim checks for large texts over a real archive backend (a directory): offload, resolve, integrity, loss. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryBlobStore } from '../lib/directory-blob-store';
import { generateKeySpec, parseKeyRing } from '../lib/key-ring';
import { createLogger } from '../lib/logger';
import { createTextCipher } from '../lib/text-cipher';
import { StoredTextError, TextStore } from '../lib/text-store';
import type { InboundMessage } from '../workflows/messages';
import { inlineTextMaxBytes } from '../workflows/payload-budget';

const dir = mkdtempSync(join(tmpdir(), 'aac-text-store-'));
const blobs = new DirectoryBlobStore(dir);
const texts = new TextStore(blobs, createTextCipher(parseKeyRing(generateKeySpec('k1'))), createLogger({ level: 'silent', name: 'test' }));
const message = (text: string): InboundMessage => ({ messageId: 'm1', text, receivedAt: '2026-01-01T00:00:00Z' });

describe('TextStore', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a text is over the inline limit then it is stored encrypted and carried as a preview and a reference', async () => {
    const long = '長'.repeat(16_000);
    const carried = await texts.offload('api:alice:c1', message(long));
    expect(carried.text.length).toBeLessThan(250);
    expect(carried.textRef).toMatchObject({ bytes: 48_000, chars: 16_000 });
    expect(await blobs.get(carried.textRef!.key)).not.toContain('長');
    expect(await texts.resolve(carried)).toEqual(message(long));
  });

  it('when a text is small then it stays inline, unless JSON escaping would make it large', async () => {
    const small = message('hello');
    expect(await texts.offload('api:alice:c1', small)).toBe(small);
    // 10,000 bytes of UTF-8, but 60,000 as JSON (each control character becomes \\u0001).
    const escaped = '\u0001'.repeat(10_000);
    expect(Buffer.byteLength(escaped)).toBeLessThan(inlineTextMaxBytes);
    expect((await texts.offload('api:alice:c1', message(escaped))).textRef).toBeDefined();
  });

  it('when a stored text was altered then reading it fails, and resolving shows the preview with a note', async () => {
    const carried = await texts.offload('api:alice:c2', message('x'.repeat(40_000)));
    await blobs.put(carried.textRef!.key, 'not what was stored');
    await expect(texts.get(carried.textRef!)).rejects.toThrow();
    await blobs.put(carried.textRef!.key, createTextCipher(undefined).seal('y'.repeat(40_000)));
    await expect(texts.get(carried.textRef!)).rejects.toBeInstanceOf(StoredTextError);
    const shown = await texts.resolve(carried);
    expect(shown.text).toMatch(/^x{200}… \[the rest of this text is missing from the archive\]$/);
    expect(shown.textRef).toBeUndefined();
  });
});
