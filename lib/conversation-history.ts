/**
 * What a conversation says, however it is stored: a running one answers from its workflow (live snapshot, turns
 * not archived yet), a closed one from its last context (Redis, else the archive), and its full history merges the
 * archive with the live turns. Every edge reads conversations through these.
 */
import type { ContextSnapshot, ConversationSnapshot, Turn } from '../workflows/messages';

/** What an edge shows of a conversation: its live snapshot, or the view of a closed one. */
export type ConversationView = Omit<ConversationSnapshot, 'unarchivedTurns' | 'counters' | 'status'> & {
  status: ConversationSnapshot['status'] | 'closed';
  counters?: ConversationSnapshot['counters'];
};

export interface HistoryItem {
  turn: number;
  role: 'user' | 'assistant';
  /** The message id, or the reply id. */
  id: string;
  text: string;
  at: string;
  /** Replies only: the message ids they answer, and who answered. */
  inReplyTo?: string[];
  provider?: string;
  model?: string;
}

export interface HistoryPage {
  messages: HistoryItem[];
  /** The `after` of the next page; null on the last one. */
  nextAfter: number | null;
}

export function runningView(snapshot: ConversationSnapshot): ConversationView {
  const { unarchivedTurns: _, ...view } = snapshot;
  return view;
}

export function closedView(conversationId: string, context: ContextSnapshot | null): ConversationView {
  return {
    conversationId,
    status: 'closed',
    turnCount: context?.turnCount ?? 0,
    pendingCount: 0,
    summary: context?.summary ?? '',
    recentTurns: context?.window ?? [],
  };
}

/**
 * The turns after `after`, oldest first, at most `limit`: the archive's, overlaid by the live ones (read first, so
 * that a turn archived in between is then found in the archive).
 */
export function mergeTurns(archived: Turn[], live: Turn[], after: number, limit: number): Turn[] {
  const byNumber = new Map<number, Turn>();
  for (const turn of [...archived, ...live]) if (turn.number > after) byNumber.set(turn.number, turn);
  return [...byNumber.values()].sort((a, b) => a.number - b.number).slice(0, limit);
}

export function historyPage(turns: Turn[], limit: number): HistoryPage {
  const nextAfter = turns.length === limit ? turns[turns.length - 1]!.number : null;
  return { messages: turns.flatMap(historyItems), nextAfter };
}

function historyItems(turn: Turn): HistoryItem[] {
  const asked = turn.messages.map((m) => ({ turn: turn.number, role: 'user' as const, id: m.messageId, text: m.text, at: m.receivedAt }));
  const { reply } = turn;
  const answered = {
    turn: turn.number,
    role: 'assistant' as const,
    id: reply.replyId,
    text: reply.text,
    at: reply.createdAt,
    inReplyTo: reply.inReplyTo,
    provider: reply.provider,
    model: reply.model,
  };
  return [...asked, answered];
}
