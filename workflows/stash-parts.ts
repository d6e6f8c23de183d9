/**
 * Splits a large string into parts that each fit the payload budget as an activity argument: at most
 * `stashPartChars` characters, so even text that JSON escapes six bytes a character (control characters) stays
 * inside it. A surrogate pair is never split, so every part is valid UTF-16 and survives UTF-8 storage.
 */
import { codecOverheadBytes, payloadBudgetBytes } from './payload-budget';

/** Worst case six bytes a character (`\u0000`), with room for the other arguments. */
export const stashPartChars = Math.floor((payloadBudgetBytes - 4 * codecOverheadBytes) / 6);

export function splitForStash(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + stashPartChars, text.length);
    const last = text.charCodeAt(end - 1);
    // Ends on a high surrogate: its low half belongs to the next character, so keep the pair together.
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}
