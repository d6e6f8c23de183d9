/**
 * The conversation workflow's public surface: signal and query definitions and their payload types.
 * This is the one file from workflows/ that edges (API, Telegram) import.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Where a conversation lives; the first segment of its id (`telegram:42`, `api:alice:demo`, `web:alice:x`). */
export type Channel = 'api' | 'web' | 'telegram';

/** The channel a conversation id names (`telegram:42` → telegram); `unknown` for ids of no channel. */
export function channelOf(conversationId: string): Channel | 'unknown' {
  const channel = conversationId.slice(0, conversationId.indexOf(':'));
  return channel === 'api' || channel === 'web' || channel === 'telegram' ? channel : 'unknown';
}

/**
 * A text too large to carry inline (over `inlineTextMaxBytes`): stored once, encrypted, in the archive; read back
 * by `key`, checked against `sha256`. Where a text has a reference, its `text` field holds only a preview.
 */
export interface TextRef {
  key: string;
  /** Hex SHA-256 of the UTF-8 text. */
  sha256: string;
  /** UTF-8 bytes and characters (UTF-16 code units) of the whole text. */
  bytes: number;
  chars: number;
}

/** One inbound user message. `messageId` is stable across redelivery, so repeats are ignored. */
export interface InboundMessage {
  messageId: string;
  /** The text, or its preview when `textRef` is set. */
  text: string;
  textRef?: TextRef;
  /** ISO-8601 time the edge received it. */
  receivedAt: string;
}

export interface ResetRequest {
  requestId: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** The assistant's answer to one or more coalesced messages. */
export interface Reply {
  replyId: string;
  inReplyTo: string[];
  /** The text, or its preview when `textRef` is set (replies on the event stream always carry the whole text). */
  text: string;
  textRef?: TextRef;
  provider: string;
  model: string;
  usage: TokenUsage;
  /** `apology` when every provider failed for good and the user gets a short apology instead of silence. */
  kind: 'answer' | 'apology';
  createdAt: string;
}

/** One exchange: the messages a turn answered and the reply. Numbered from 1 over the conversation's life. */
export interface Turn {
  number: number;
  messages: InboundMessage[];
  reply: Reply;
}

/** A text as the model sees it: whole, or a preview and the reference to read it by. */
export type ModelText = Pick<InboundMessage, 'text' | 'textRef'>;

/**
 * A turn as the model activities need it: the texts only. The workflow sends its window in this shape (a turn's
 * ids, times, usage and provider would repeat in every later turn's history for nothing); a full `Turn` fits too.
 */
export interface ContextTurn {
  messages: ModelText[];
  reply: ModelText;
}

/** The texts of `turns`, for the model. */
export function contextTurns(turns: readonly Turn[]): ContextTurn[] {
  return turns.map(({ messages, reply }) => ({ messages: messages.map(modelText), reply: modelText(reply) }));
}

function modelText({ text, textRef }: ModelText): ModelText {
  return textRef ? { text, textRef } : { text };
}

/** Knobs the workflow runs by; built from config by the edge that starts it and carried across runs. */
export interface ConversationSettings {
  systemPrompt: string;
  /** Budget (estimated tokens) for summary + recent turns sent to the model. */
  contextTokenBudget: number;
  /** Upper bound for the running summary's length, in tokens. */
  summaryMaxTokens: number;
  /** Close the run (archive, save snapshot) after this long without a message. */
  idleTimeoutMs: number;
  maxTurnsPerRun: number;
  maxSignalsPerRun: number;
  /** How many recent message ids are remembered to drop redeliveries. */
  dedupeWindow: number;
  /** Write the run's turns to the archive every this many turns (and always before the run ends). */
  archiveEveryTurns: number;
  /**
   * While a conversation is busy, its search attributes are written at most this often (each write is a visibility
   * update on the server); once it has been quiet this long, its archive and Redis context are brought up to date,
   * so its idle close has nothing left to write. Absent in runs started before: one minute.
   */
  quietPeriodMs?: number;
  /** Quiet this long, a checkpointed run parks (workflows/parking.ts). Absent in runs started before: at once. */
  parkAfterMs?: number;
}

/** What a conversation remembers between runs: restored from Redis (or the archive) after an idle close. */
export interface ContextSnapshot {
  summary: string;
  window: Turn[];
  seenMessageIds: string[];
  turnCount: number;
  /** Absent in snapshots saved before counters were kept across idle closes. */
  counters?: ConversationCounters;
  savedAt: string;
}

/** The snapshot with more turns (the later one on a tie); null when there is none. */
export function newestContext(...snapshots: (ContextSnapshot | null | undefined)[]): ContextSnapshot | null {
  const present = snapshots.filter((s): s is ContextSnapshot => !!s);
  return present.sort((a, b) => b.turnCount - a.turnCount || b.savedAt.localeCompare(a.savedAt))[0] ?? null;
}

/** Something waiting in a conversation's inbox, in arrival order. */
export type InboxItem = { kind: 'message'; message: InboundMessage } | { kind: 'reset'; requestId: string };

/** State handed from one run to the next by continue-as-new. */
export interface CarriedState extends Omit<ContextSnapshot, 'savedAt' | 'counters'> {
  inbox: InboxItem[];
  /** Turns not yet archived (normally empty: runs archive before they end). */
  unarchived: Turn[];
  counters: ConversationCounters;
  /**
   * Set when inbox and unarchived turns were too large to carry inline: they are stored in these parts (JSON of
   * `StashedState`, in order) and come before `inbox` / `unarchived` (what arrived while they were stored).
   * Absent in inputs of older runs.
   */
  stashed?: TextRef[];
}

/** What a run stores by reference when it is too large for the continue-as-new input. */
export interface StashedState {
  inbox: InboxItem[];
  unarchived: Turn[];
}

export interface ConversationInput {
  conversationId: string;
  channel: Channel;
  settings: ConversationSettings;
  carried?: CarriedState;
  /** Set on a parked run (workflows/parking.ts): it waits on the parked queue, and returns to `taskQueue`. */
  parked?: { taskQueue: string; idleAt: number };
}

export type ConversationStatus = 'waiting' | 'thinking' | 'closing';

/**
 * Custom search attributes operators filter conversations by in the Temporal UI, e.g. `ChatUser = "alice"`,
 * `ChatTurns > 10`, `ChatStatus = "thinking"` (names are a contract). ChatStatus adds `closed` after an idle close.
 */
export const searchAttributeKeys = {
  channel: defineSearchAttributeKey('ChatChannel', SearchAttributeType.KEYWORD),
  user: defineSearchAttributeKey('ChatUser', SearchAttributeType.KEYWORD),
  turns: defineSearchAttributeKey('ChatTurns', SearchAttributeType.INT),
  lastActiveAt: defineSearchAttributeKey('ChatLastActiveAt', SearchAttributeType.DATETIME),
  status: defineSearchAttributeKey('ChatStatus', SearchAttributeType.KEYWORD),
} as const;

export interface ConversationSnapshot {
  conversationId: string;
  status: ConversationStatus;
  turnCount: number;
  pendingCount: number;
  summary: string;
  /** Turns in the model's context window, oldest first. */
  recentTurns: Turn[];
  /** Turns of this run that are not in the archive yet (the history API merges them in). */
  unarchivedTurns: Turn[];
  /** `provider/model` of the last answer; absent before the first one (and from workers older than this field). */
  lastModel?: string;
  counters: ConversationCounters & { signalsThisRun: number; turnsThisRun: number };
}

/** Lifetime counters, carried across runs. */
export interface ConversationCounters {
  messagesReceived: number;
  duplicatesIgnored: number;
  replies: number;
  apologies: number;
  summaries: number;
  resets: number;
  /** Message signals without a messageId or text (only possible when signalled directly, not through an edge). */
  malformedIgnored: number;
}

export const messageSignal = defineSignal<[InboundMessage]>('message');
export const resetSignal = defineSignal<[ResetRequest]>('reset');
export const snapshotQuery = defineQuery<ConversationSnapshot>('snapshot');
/**
 * From the workers' idle closer (workers/idle-closer.ts), not the edges: a checkpointed conversation keeps no idle
 * timer of its own, so that thousands of them do not all fire at once after downtime; this asks it to close. A
 * conversation that is not idle for its timeout yet closes when it is, unless a message comes first.
 */
export const idleCloseSignal = defineSignal('idle-close');

/** Name of the workflow type, for clients that start it by name. */
export const conversationWorkflowType = 'conversation';

/** The workflow's signature, for typed clients (edges import this file, never the workflow itself). */
export type ConversationWorkflow = (input: ConversationInput) => Promise<void>;
