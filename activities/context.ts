/**
 * Activities that keep a conversation's context and transcript: the hot snapshot in Redis and the
 * archived transcript segments (S3 or a directory).
 */
import type { ContextSnapshot } from '../workflows/messages';
import type { ConversationCache, TranscriptSegment, TranscriptStore } from './ports';

export function createContextActivities(deps: { cache: ConversationCache; transcripts: TranscriptStore }) {
  const { cache, transcripts } = deps;
  return {
    async saveContext(conversationId: string, snapshot: ContextSnapshot): Promise<void> {
      await cache.saveContext(conversationId, snapshot);
    },
    async loadContext(conversationId: string): Promise<ContextSnapshot | null> {
      return cache.loadContext(conversationId);
    },
    /** Writes one segment; the key depends only on its first turn, so a retried write replaces itself. */
    async archiveTurns(segment: TranscriptSegment): Promise<void> {
      await transcripts.writeSegment(segment);
    },
    async loadArchivedContext(conversationId: string): Promise<ContextSnapshot | null> {
      return transcripts.latestContext(conversationId);
    },
  };
}
