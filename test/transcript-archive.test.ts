import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError } from '../lib/blob-key';
import type { BlobStore } from '../lib/blob-store';
import { DirectoryBlobStore } from '../lib/directory-blob-store';
import { createLogger } from '../lib/logger';
import { S3BlobStore } from '../lib/s3-blob-store';
import { TranscriptArchive } from '../lib/transcript-archive';
import type { ContextSnapshot, Turn } from '../workflows/messages';
import { testServices } from './support/services';

function turn(number: number, text = `question ${number}`): Turn {
  return {
    number,
    messages: [{ messageId: `m${number}`, text, receivedAt: '2025-01-01T00:00:00.000Z' }],
    reply: {
      replyId: `r${number}`,
      inReplyTo: [`m${number}`],
      text: `answer ${number}`,
      provider: 'test',
      model: 'test-model',
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
      kind: 'answer',
      createdAt: '2025-01-01T00:00:01.000Z',
    },
  };
}

const turns = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => turn(from + i));

function context(turnCount: number): ContextSnapshot {
  return { summary: `summary after ${turnCount}`, window: [turn(turnCount)], seenMessageIds: [`m${turnCount}`], turnCount, savedAt: '2025-01-01T00:00:02.000Z' };
}

interface Backend {
  name: string;
  open(): Promise<{ blobs: BlobStore; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'directory',
    async open() {
      const root = await mkdtemp(join(tmpdir(), 'aac-archive-test-'));
      return { blobs: new DirectoryBlobStore(root), close: () => rm(root, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3',
    async open() {
      const { s3 } = testServices();
      const blobs = new S3BlobStore({ bucket: `aac-test-${randomUUID()}`, ...s3 });
      return { blobs, close: async () => blobs.close() };
    },
  },
];

describe.each(backends)('TranscriptArchive over the $name store', (backend) => {
  let blobs: BlobStore;
  let close: () => Promise<void>;
  let archive: TranscriptArchive;
  let n = 0;
  const conversation = () => `api:tester:conversation/${++n}`;

  beforeAll(async () => {
    ({ blobs, close } = await backend.open());
    archive = new TranscriptArchive(blobs, createLogger({ level: 'silent', name: 'test' }));
  });
  afterAll(async () => {
    await close();
  });

  it('when a segment is written then its turns and context read back', async () => {
    const id = conversation();

    const { key } = await archive.writeSegment({ conversationId: id, firstTurn: 1, turns: turns(1, 3), context: context(3) });

    expect(key).toBe(`conversations/${encodeURIComponent(id)}/0000000001.jsonl`);
    expect(await archive.readTurns(id, { limit: 10 })).toEqual({ turns: turns(1, 3), lastArchivedTurn: 3 });
    expect(await archive.latestContext(id)).toEqual(context(3));
  });

  it('when a run rewrites its segment as it grows then the archive holds the latest version once', async () => {
    const id = conversation();

    await archive.writeSegment({ conversationId: id, firstTurn: 1, turns: turns(1, 2), context: context(2) });
    await archive.writeSegment({ conversationId: id, firstTurn: 1, turns: turns(1, 4), context: context(4) });
    await archive.writeSegment({ conversationId: id, firstTurn: 1, turns: turns(1, 4), context: context(4) });

    expect(await blobs.list(`conversations/${encodeURIComponent(id)}/`)).toHaveLength(1);
    expect(await archive.readTurns(id, { limit: 10 })).toEqual({ turns: turns(1, 4), lastArchivedTurn: 4 });
    expect(await archive.latestContext(id)).toEqual(context(4));
  });

  it('when history spans segments then pages follow each other in turn order', async () => {
    const id = conversation();
    // Written out of order on purpose: order comes from the keys, not from when they were written.
    await archive.writeSegment({ conversationId: id, firstTurn: 11, turns: turns(11, 25), context: context(25) });
    await archive.writeSegment({ conversationId: id, firstTurn: 1, turns: turns(1, 10), context: context(10) });
    await archive.writeSegment({ conversationId: id, firstTurn: 26, turns: turns(26, 27), context: context(27) });

    const pages: number[][] = [];
    let afterTurn = 0;
    for (;;) {
      const page = await archive.readTurns(id, { afterTurn, limit: 7 });
      expect(page.lastArchivedTurn).toBe(27);
      if (page.turns.length === 0) break;
      pages.push(page.turns.map((t) => t.number));
      afterTurn = page.turns.at(-1)!.number;
    }

    expect(pages).toEqual([[1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14], [15, 16, 17, 18, 19, 20, 21], [22, 23, 24, 25, 26, 27]]);
  });

  it('when segments overlap then each turn appears once and the later segment wins', async () => {
    const id = conversation();
    // A run restarted from an older snapshot: turns 6.. were archived twice, the second time with other text.
    await archive.writeSegment({ conversationId: id, firstTurn: 1, turns: turns(1, 8), context: context(8) });
    const retold = [turn(6, 'asked again'), turn(7, 'asked again')];
    await archive.writeSegment({ conversationId: id, firstTurn: 6, turns: retold, context: context(7) });

    const { turns: read, lastArchivedTurn } = await archive.readTurns(id, { limit: 100 });

    expect(read).toEqual([...turns(1, 5), ...retold]);
    expect(lastArchivedTurn).toBe(7);
  });

  it('when several segments exist then the latest context comes from the newest one', async () => {
    const id = conversation();
    await archive.writeSegment({ conversationId: id, firstTurn: 21, turns: turns(21, 30), context: context(30) });
    await archive.writeSegment({ conversationId: id, firstTurn: 1, turns: turns(1, 20), context: context(20) });

    expect(await archive.latestContext(id)).toEqual(context(30));
  });

  it('when a conversation was never archived then it has no turns and no context', async () => {
    const id = conversation();

    expect(await archive.readTurns(id, { limit: 10 })).toEqual({ turns: [], lastArchivedTurn: 0 });
    expect(await archive.latestContext(id)).toBeNull();
  });

  it('when a segment would hold turns before its first turn then writing is refused', async () => {
    await expect(
      archive.writeSegment({ conversationId: conversation(), firstTurn: 5, turns: turns(4, 6), context: context(6) }),
    ).rejects.toThrow(RangeError);
  });

  it('when a key tries to leave the store then it is refused', async () => {
    for (const key of ['../escape.jsonl', 'conversations/../../escape', '/absolute', 'a//b', 'a\\..\\b', '.hidden']) {
      await expect(blobs.put(key, 'x'), key).rejects.toThrow(InvalidBlobKeyError);
      await expect(blobs.get(key), key).rejects.toThrow(InvalidBlobKeyError);
    }
    await expect(blobs.list('../')).rejects.toThrow(InvalidBlobKeyError);
  });

  it('when a key was never written then reading it returns null', async () => {
    expect(await blobs.get('conversations/nobody/0000000001.jsonl')).toBeNull();
  });

  it('when the store is reachable then ping resolves', async () => {
    await expect(blobs.ping()).resolves.toBeUndefined();
  });
});

describe('DirectoryBlobStore', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aac-directory-test-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('when a key contains .. then nothing is written outside the root', async () => {
    const inner = join(root, 'inner');
    const blobs = new DirectoryBlobStore(inner);

    await expect(blobs.put('../outside.txt', 'x')).rejects.toThrow(InvalidBlobKeyError);
    await expect(blobs.put('a/../../outside.txt', 'x')).rejects.toThrow(InvalidBlobKeyError);

    expect(await readdir(root)).toEqual([]);
  });

  it('when a key is overwritten then no temporary files are left or listed', async () => {
    const blobs = new DirectoryBlobStore(root);

    await blobs.put('a/b.txt', 'one');
    await blobs.put('a/b.txt', 'two');

    expect(await blobs.get('a/b.txt')).toBe('two');
    expect(await readdir(join(root, 'a'))).toEqual(['b.txt']);
    expect(await blobs.list('')).toEqual(['a/b.txt']);
  });
});

describe('S3BlobStore', () => {
  it('when a listing spans several pages then every key comes back sorted', async () => {
    const { s3 } = testServices();
    const blobs = new S3BlobStore({ bucket: `aac-test-${randomUUID()}`, prefix: 'deployment-a/', ...s3 });
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`);
    try {
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => blobs.put(key, key)));

      // ListObjectsV2 returns at most 1000 keys per page.
      expect(await blobs.list('many/')).toEqual(keys);
      expect(await blobs.list('many/100')).toEqual(keys.slice(1000));
    } finally {
      blobs.close();
    }
  });
});
