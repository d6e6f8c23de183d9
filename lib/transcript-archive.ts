/**
 * The cold transcript archive over a BlobStore (S3 or a directory): what workers write at the end of each run
 * (and every few turns), and what the history API and a restored conversation read back.
 */
import type { TranscriptSegment, TranscriptStore } from '../activities/ports';
import type { ContextSnapshot, Turn } from '../workflows/messages';
import type { BlobStore } from './blob-store';
import { createLogger, type Logger } from './logger';
import { createTextCipher, type TextCipher } from './text-cipher';
import {
  conversationPrefix, decodeSegment, encodeSegment, firstTurnOf, segmentKey, type DecodedSegment,
} from './transcript-segment';

export interface ReadTurnsOptions {
  /** Only turns numbered after this one (default 0: from the start). */
  afterTurn?: number;
  /** At most this many turns. */
  limit: number;
}

export interface TurnPage {
  /** Ascending by number, each number once. */
  turns: Turn[];
  /** The highest turn number in the archive (0 when it has none): live turns after it are not archived yet. */
  lastArchivedTurn: number;
}

interface SegmentRef {
  key: string;
  firstTurn: number;
  /** Turns from this segment are read only below this number: a later segment starting there supersedes them. */
  end: number;
}

/**
 * Segments live under `conversations/<encodeURIComponent(conversationId)>/<firstTurn:10 digits>.jsonl`
 * (format in transcript-segment.ts). A run rewrites its own segment as it grows: same firstTurn, same key, so
 * rewriting is idempotent and a retried write is harmless.
 *
 * Overlaps (possible only after a crash made a run restart from an older snapshot): a segment owns the turns
 * from its firstTurn up to the next segment's firstTurn. The later segment wins, and turns of the older timeline
 * past that point are not mixed in, which is also what lets a page read only the segments it needs.
 *
 * @example
 * const archive = new TranscriptArchive(createBlobStore(config), logger);
 * const { turns } = await archive.readTurns('api:alice:demo', { afterTurn: 40, limit: 20 });
 */
export class TranscriptArchive implements TranscriptStore {
  private readonly logger: Logger;

  constructor(
    private readonly blobs: BlobStore,
    logger?: Logger,
    /** Encrypts whole segments (default: none). A segment that does not decrypt is an error, never skipped. */
    private readonly cipher: TextCipher = createTextCipher(undefined),
  ) {
    this.logger = logger ?? createLogger({ level: 'info', name: 'transcript-archive' });
  }

  async writeSegment(segment: TranscriptSegment): Promise<{ key: string }> {
    const key = segmentKey(segment.conversationId, segment.firstTurn);
    await this.blobs.put(key, this.cipher.seal(encodeSegment(segment)));
    return { key };
  }

  /** The context saved with the newest segment, or null when the conversation has no archive. */
  /** Removes every transcript segment of the conversation; returns how many. */
  async forget(conversationId: string): Promise<number> {
    const keys = await this.blobs.list(conversationPrefix(conversationId));
    for (const key of keys) await this.blobs.delete(key);
    return keys.length;
  }

  async latestContext(conversationId: string): Promise<ContextSnapshot | null> {
    const segments = await this.segments(conversationId);
    for (const segment of segments.reverse()) {
      const decoded = await this.read(conversationId, segment);
      if (decoded?.context) return decoded.context;
      // Only a damaged object gets here; an older context restores more than none at all.
      this.logger.warn({ conversationId, key: segment.key }, 'archived segment has no context; trying an older one');
    }
    return null;
  }

  /** A page of archived turns, reading only the segments that hold it (plus the newest, for lastArchivedTurn). */
  async readTurns(conversationId: string, options: ReadTurnsOptions): Promise<TurnPage> {
    const { afterTurn = 0, limit } = options;
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
    const segments = await this.segments(conversationId);
    const cache = new Map<string, DecodedSegment | null>();
    const visible = async (segment: SegmentRef) => {
      if (!cache.has(segment.key)) cache.set(segment.key, await this.read(conversationId, segment));
      const turns = cache.get(segment.key)?.turns ?? [];
      return turns.filter((turn) => turn.number >= segment.firstTurn && turn.number < segment.end);
    };

    const turns: Turn[] = [];
    for (const segment of segments) {
      if (turns.length >= limit) break;
      if (segment.end - 1 <= afterTurn) continue;
      turns.push(...(await visible(segment)).filter((turn) => turn.number > afterTurn));
    }

    let lastArchivedTurn = 0;
    for (const segment of [...segments].reverse()) {
      const last = (await visible(segment)).at(-1);
      if (last) {
        lastArchivedTurn = last.number;
        break;
      }
    }
    return { turns: turns.slice(0, limit), lastArchivedTurn };
  }

  /** The conversation's segments in turn order, each knowing where the next one takes over. */
  private async segments(conversationId: string): Promise<SegmentRef[]> {
    const prefix = conversationPrefix(conversationId);
    const found = (await this.blobs.list(prefix)).flatMap((key) => {
      const firstTurn = firstTurnOf(key, prefix);
      return firstTurn === undefined ? [] : [{ key, firstTurn }];
    });
    return found.map((segment, i) => ({ ...segment, end: found[i + 1]?.firstTurn ?? Number.POSITIVE_INFINITY }));
  }

  private async read(conversationId: string, segment: SegmentRef): Promise<DecodedSegment | null> {
    const body = await this.blobs.get(segment.key);
    // Listed a moment ago but gone now: nothing deletes segments today, so treat it as empty.
    if (body === null) return null;
    const decoded = decodeSegment(this.cipher.open(body));
    if (decoded.corruptLines > 0) {
      this.logger.warn({ conversationId, key: segment.key, corruptLines: decoded.corruptLines }, 'skipped corrupt lines in an archived segment');
    }
    return decoded;
  }
}
