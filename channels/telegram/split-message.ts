/**
 * Splits a Markdown reply into parts that each fit one Telegram message. A part ends at the last blank line
 * that fits, else the last line break, else the last space, else a hard cut that keeps surrogate pairs whole.
 * A fenced code block is cut only when it cannot fit a message of its own; each piece is then closed and the
 * next part reopens the same fence, so every part renders on its own. Only whitespace at split points is lost.
 */
import { findCodeBlocks } from './markdown-html';

/** Telegram's limit for a message text, in UTF-16 code units after entity parsing. */
export const telegramTextLimit = 4096;

interface Line {
  start: number;
  /** Index of the line's `\n` (or the text length for the last line). */
  end: number;
  blank: boolean;
}

interface Fence {
  open: number;
  close: number;
  /** Longer than a whole part: the only kind of block that may be cut. */
  long: boolean;
  reopen: string;
  closing: string;
}

/** Where a part ends (`end`, exclusive) and the next one starts; `inside` when the cut is inside a code block. */
interface Cut {
  end: number;
  next: number;
  inside?: Fence;
}

interface Outline {
  text: string;
  lines: Line[];
  /** The code block each line belongs to (fence lines included). */
  fenceOf: (Fence | undefined)[];
}

/**
 * Splits `markdown` into ordered parts of at most `limit` UTF-16 code units; [] for blank input.
 * @example splitMessage('a\n\nb', 2) // ['a', 'b']
 */
export function splitMessage(markdown: string, limit = telegramTextLimit): string[] {
  if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`limit must be an integer of at least 2, got ${limit}`);
  const outline = outlineOf(markdown, limit);
  const end = markdown.trimEnd().length;
  const parts: string[] = [];
  let pos = skipWhitespace(markdown, 0);
  let inside: Fence | undefined;
  while (pos < end) {
    const reopen = inside ? `${inside.reopen}\n` : '';
    const room = limit - reopen.length;
    if (end - pos <= room) {
      parts.push(reopen + markdown.slice(pos, end));
      break;
    }
    const cut = chooseCut(outline, pos, room);
    const body = markdown.slice(pos, cut.end);
    parts.push(reopen + (cut.inside ? `${body}\n${cut.inside.closing}` : body.trimEnd()));
    inside = cut.inside;
    pos = inside ? cut.next : skipWhitespace(markdown, cut.next);
  }
  return parts;
}

function outlineOf(text: string, limit: number): Outline {
  const rawLines = text.split('\n');
  const lines: Line[] = [];
  let start = 0;
  for (const line of rawLines) {
    lines.push({ start, end: start + line.length, blank: line.trim() === '' });
    start += line.length + 1;
  }
  const fenceOf: (Fence | undefined)[] = lines.map(() => undefined);
  for (const block of findCodeBlocks(rawLines)) {
    const opener = rawLines[block.open] ?? '';
    // A fence too long to repeat in every piece (only with tiny limits) is split like plain text.
    if (opener.length + block.marker.length + 4 > limit) continue;
    const length = (lines[block.close]?.end ?? 0) - (lines[block.open]?.start ?? 0);
    const fence = { open: block.open, close: block.close, long: length > limit, reopen: opener.trim(), closing: block.marker };
    fenceOf.fill(fence, block.open, block.close + 1);
  }
  return { text, lines, fenceOf };
}

/** The best cut for a part holding at most `room` characters from `pos` on. */
function chooseCut(outline: Outline, pos: number, room: number): Cut {
  const { lines, fenceOf } = outline;
  const windowEnd = pos + room;
  let paragraph: Cut | undefined;
  let lineBreak: Cut | undefined;
  let inCode: Cut | undefined;
  for (let index = lineIndexAt(lines, pos); index + 1 < lines.length; index++) {
    const end = lines[index]?.end ?? 0;
    if (end > windowEnd) break;
    if (end <= pos) continue;
    const here = fenceOf[index];
    const next = fenceOf[index + 1];
    if (here !== undefined && here === next) {
      // Inside a code block: allowed only in a long one, leaving at least one code line on each side.
      const fits = end + 1 + here.closing.length <= windowEnd;
      if (here.long && fits && index > here.open && index + 1 < here.close) inCode = { end, next: end + 1, inside: here };
    } else if (lines[index]?.blank || lines[index + 1]?.blank || here || next) {
      paragraph = { end, next: end + 1 };
    } else {
      lineBreak = { end, next: end + 1 };
    }
  }
  return paragraph ?? lineBreak ?? inCode ?? cutWithinLine(outline, pos, windowEnd);
}

/** No line break fits: cut a code line anywhere, a text line at its last fitting space, else anywhere. */
function cutWithinLine(outline: Outline, pos: number, windowEnd: number): Cut {
  const { text, lines, fenceOf } = outline;
  const index = lineIndexAt(lines, pos);
  const fence = fenceOf[index];
  if (fence?.long && index < fence.close) {
    const lastCodeChar = (lines[fence.close]?.start ?? 0) - 1;
    const end = keepSurrogatePair(text, pos, Math.min(windowEnd - 1 - fence.closing.length, lastCodeChar));
    return { end, next: end, inside: fence };
  }
  for (let end = windowEnd; end > pos; end--) {
    if (/\s/.test(text[end] ?? '')) return { end, next: end };
  }
  const end = keepSurrogatePair(text, pos, windowEnd);
  return { end, next: end };
}

/** Moves a cut that would separate a surrogate pair back before it, but never back to the part's start. */
function keepSurrogatePair(text: string, pos: number, end: number): number {
  const at = Math.max(end, pos + 1);
  const splitsPair = /[\uD800-\uDBFF]/.test(text[at - 1] ?? '') && /[\uDC00-\uDFFF]/.test(text[at] ?? '');
  if (!splitsPair) return at;
  return at - 1 > pos ? at - 1 : at + 1;
}

function lineIndexAt(lines: readonly Line[], pos: number): number {
  let low = 0;
  let high = lines.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((lines[middle]?.start ?? 0) <= pos) low = middle;
    else high = middle - 1;
  }
  return low;
}

function skipWhitespace(text: string, from: number): number {
  let pos = from;
  while (pos < text.length && /\s/.test(text[pos] ?? '')) pos += 1;
  return pos;
}
