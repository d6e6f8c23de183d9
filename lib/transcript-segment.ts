/**
 * The archive's file format. A segment is one JSONL object per run:
 * `conversations/<encodeURIComponent(conversationId)>/<firstTurn, 10 digits>.jsonl`, one `{"kind":"turn", ...Turn}`
 * line per turn, then one `{"kind":"context", ...ContextSnapshot}` line. Zero-padding makes key order turn order.
 */
import type { TranscriptSegment } from '../activities/ports';
import type { ContextSnapshot, Turn } from '../workflows/messages';

const maxFirstTurn = 9_999_999_999;
const segmentName = /^(\d{10})\.jsonl$/;

/** A segment as read back: turns sorted by number, each number once. */
export interface DecodedSegment {
  turns: Turn[];
  context: ContextSnapshot | null;
  /** Lines that were not valid turn or context records (skipped). */
  corruptLines: number;
}

/** The key prefix under which every segment of a conversation lives (ends with `/`). */
export function conversationPrefix(conversationId: string): string {
  return `conversations/${encodeURIComponent(conversationId)}/`;
}

export function segmentKey(conversationId: string, firstTurn: number): string {
  return `${conversationPrefix(conversationId)}${String(firstTurn).padStart(10, '0')}.jsonl`;
}

/** The firstTurn encoded in a segment key listed under `prefix`, or undefined for any other object. */
export function firstTurnOf(key: string, prefix: string): number | undefined {
  const match = segmentName.exec(key.slice(prefix.length));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Serializes a segment.
 * @throws RangeError when firstTurn does not fit the key or a turn is numbered before it (a caller bug: such a
 *   segment would sort in the wrong place and its early turns would never be read back).
 */
export function encodeSegment(segment: TranscriptSegment): string {
  const { firstTurn, turns, context } = segment;
  if (!Number.isInteger(firstTurn) || firstTurn < 0 || firstTurn > maxFirstTurn) {
    throw new RangeError(`firstTurn must be an integer from 0 to ${maxFirstTurn}, got ${firstTurn}`);
  }
  const early = turns.find((turn) => !Number.isInteger(turn.number) || turn.number < firstTurn);
  if (early) throw new RangeError(`turn ${early.number} does not belong in a segment starting at turn ${firstTurn}`);
  const lines = [...turns.map((turn) => ({ kind: 'turn', ...turn })), { kind: 'context', ...context }];
  return lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
}

/** Parses a segment, skipping lines that are not valid records; a repeated turn number keeps the last line. */
export function decodeSegment(body: string): DecodedSegment {
  const turns = new Map<number, Turn>();
  let context: ContextSnapshot | null = null;
  let corruptLines = 0;
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    const record = parseLine(line);
    if (record?.kind === 'turn' && Number.isInteger(record.number)) {
      const { kind: _, ...turn } = record;
      turns.set(turn.number as number, turn as unknown as Turn);
    } else if (record?.kind === 'context' && Array.isArray(record.window)) {
      const { kind: _, ...snapshot } = record;
      context = snapshot as unknown as ContextSnapshot;
    } else {
      corruptLines += 1;
    }
  }
  return { turns: [...turns.values()].sort((a, b) => a.number - b.number), context, corruptLines };
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
