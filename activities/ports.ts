/**
 * The narrow interfaces activities depend on. Adapters (openai, ioredis, S3, directory) implement them;
 * workers build the real ones, tests build real ones against local servers.
 */
import type { ContextSnapshot, Reply, TokenUsage, Turn } from '../workflows/messages';
import type { ConversationEvent, StoredEvent } from '../lib/conversation-events';
import type { TextStore } from '../lib/text-store';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Caps the answer below the provider's configured `maxTokens` (summaries have their own budget). */
  maxTokens?: number;
}

export interface ChatResult {
  text: string;
  usage: TokenUsage;
}

/** One configured provider. `stream` calls `onDelta` with text as it arrives and resolves with the whole answer. */
export interface ChatModel {
  readonly provider: string;
  readonly model: string;
  stream(request: ChatRequest, onDelta: (text: string) => void, signal: AbortSignal): Promise<ChatResult>;
}

/** Hot per-conversation state in Redis: context snapshot, event stream, reply index. */
export interface ConversationCache {
  saveContext(conversationId: string, snapshot: ContextSnapshot): Promise<void>;
  loadContext(conversationId: string): Promise<ContextSnapshot | null>;
  /** Appends `events` in order in one round trip; returns their stream ids. */
  appendEvents(conversationId: string, events: readonly ConversationEvent[]): Promise<string[]>;
  /** Appends the `reply` event and indexes the reply by each message id it answers; at most once per replyId. */
  publishReply(conversationId: string, reply: Reply): Promise<{ published: boolean }>;
  /** The published reply that answered `messageId`, if any. */
  findReply(conversationId: string, messageId: string): Promise<Reply | null>;
}

/** Large texts stored by reference (claim checks): offloaded when too large to carry, resolved where read. */
export type LargeTexts = Pick<TextStore, 'put' | 'get' | 'offload' | 'resolve' | 'resolveTurns'>;

/** One archived transcript segment: a run's turns plus the context at the time it was written. */
export interface TranscriptSegment {
  conversationId: string;
  firstTurn: number;
  turns: Turn[];
  context: ContextSnapshot;
}

/** Cold, append-only transcript storage (S3 or a local directory). */
export interface TranscriptStore {
  writeSegment(segment: TranscriptSegment): Promise<{ key: string }>;
  latestContext(conversationId: string): Promise<ContextSnapshot | null>;
}

/** Reads a conversation's event stream (tokens as the model streams them), oldest first, after a stream id. */
export interface ConversationEventReader {
  readEvents(conversationId: string, afterId: string, options: { blockMs?: number; count?: number }): Promise<StoredEvent[]>;
}
