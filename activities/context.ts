/**
 * Activities that keep a conversation's context and transcript: the hot snapshot in Redis and the
 * archived transcript segments (S3 or a directory).
 */
import type { Metrics } from '../lib/metrics';
import type { Logger } from '../lib/logger';
import { newestContext, type ContextSnapshot, type TextRef } from '../workflows/messages';
import type { ConversationCache, LargeTexts, TranscriptSegment, TranscriptStore } from './ports';

export function createContextActivities(deps: {
  cache: ConversationCache;
  transcripts: TranscriptStore;
  texts: LargeTexts;
  logger: Logger;
  metrics?: Pick<Metrics, 'delivery'> | undefined;
}) {
  const { cache, transcripts, texts, logger } = deps;
  const archiveWrites = deps.metrics?.delivery.archiveWrites;
  return {
    /**
     * The context a conversation's first run starts from: the newer of the Redis snapshot and the archive's last
     * context (a snapshot save can fail after the archive write succeeded; a stale one would reuse turn numbers).
     * With a snapshot, a failing archive is logged and skipped; without one, only the archive can tell a new
     * conversation from one Redis forgot, so its failure fails the activity (and the retry policy waits it out).
     */
    async restoreContext(conversationId: string): Promise<ContextSnapshot | null> {
      const cached = await cache.loadContext(conversationId).catch((error: unknown) => {
        logger.warn({ err: error, conversationId }, 'reading the context snapshot from Redis failed; asking the archive');
        return null;
      });
      const archived = cached
        ? await transcripts.latestContext(conversationId).catch((error: unknown) => {
          logger.warn({ err: error, conversationId }, 'reading the archived context failed; restoring the Redis snapshot');
          return null;
        })
        : await transcripts.latestContext(conversationId);
      return newestContext(cached, archived);
    },
    async saveContext(conversationId: string, snapshot: ContextSnapshot): Promise<void> {
      await cache.saveContext(conversationId, snapshot);
    },
    async loadContext(conversationId: string): Promise<ContextSnapshot | null> {
      return cache.loadContext(conversationId);
    },
    /**
     * Writes one segment; the key depends only on its first turn, so a retried write replaces itself. With
     * `saveContext` (a checkpoint or an idle close) the segment's context goes to Redis as well.
     */
    async archiveTurns(segment: TranscriptSegment, options: { saveContext?: boolean } = {}): Promise<void> {
      try {
        await transcripts.writeSegment(segment);
        archiveWrites?.inc({ outcome: 'ok' });
      } catch (error) {
        archiveWrites?.inc({ outcome: 'failed' });
        throw error;
      }
      if (!options.saveContext) return;
      // Best effort: restore falls back to the segment just written, which holds the same context.
      await cache.saveContext(segment.conversationId, segment.context).catch((error: unknown) => {
        logger.warn({ err: error, conversationId: segment.conversationId }, 'saving the context to Redis failed; the archive holds it');
      });
    },
    async loadArchivedContext(conversationId: string): Promise<ContextSnapshot | null> {
      return transcripts.latestContext(conversationId);
    },
    /** Stores a text in the archive (a run's queued messages on their way to the next run); content-addressed. */
    async storeText(conversationId: string, text: string): Promise<TextRef> {
      return texts.put(conversationId, text);
    },
    async loadText(ref: TextRef): Promise<string> {
      return texts.get(ref);
    },
  };
}
