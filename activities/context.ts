/**
 * Activities that keep a conversation's context and transcript: the hot snapshot in Redis and the
 * archived transcript segments (S3 or a directory).
 */
import type { ContextSnapshot, TextRef } from '../workflows/messages';
import type { ConversationCache, LargeTexts, TranscriptSegment, TranscriptStore } from './ports';

export function createContextActivities(deps: { cache: ConversationCache; transcripts: TranscriptStore; texts: LargeTexts }) {
  const { cache, transcripts, texts } = deps;
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
    /** Stores a text in the archive (a run's queued messages on their way to the next run); content-addressed. */
    async storeText(conversationId: string, text: string): Promise<TextRef> {
      return texts.put(conversationId, text);
    },
    async loadText(ref: TextRef): Promise<string> {
      return texts.get(ref);
    },
  };
}
