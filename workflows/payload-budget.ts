/**
 * The one byte budget for everything the engine hands Temporal (activity inputs and results, signals, queries,
 * the continue-as-new input), and the bounds the conversation keeps so that it is never reached. Pure, so the
 * workflow plans with the same numbers the data converter enforces.
 *
 * Temporal rejects a payload over 2 MB (and terminates a run whose workflow task keeps producing one), and a whole
 * workflow task completion over 4 MB. Sizes here are bytes of UTF-8 JSON plus what the data converter adds.
 *
 * How the bounds fit inside the budget, at their worst (a user who only sends maximum-size CJK messages):
 * - a turn answers at most {@link turnTextBudgetBytes} of message text; a reply over {@link inlineTextMaxBytes}
 *   travels by reference, so a turn carries at most 96 + 32 KiB;
 * - the context window keeps at most {@link windowBudgetBytes} (its newest turn always stays: ≤ 128 KiB);
 * - dedupe ids (1,000 × ≤ 200 characters) and the summary add ≤ 210 KiB;
 * - so a model call carries ≤ ~250 KiB, an archive segment or a continue-as-new input ≤ ~470 KiB, inside 512 KiB.
 * The inbox and unarchived turns are unbounded in principle (the edge caps the queue, but signals can come from
 * elsewhere): the continue-as-new input carries them by reference when they are large, segments are split.
 */
import type { TextRef } from './messages';

/** No payload may be larger, after the data converter (JSON, encryption). A quarter of Temporal's 2 MB limit. */
export const payloadBudgetBytes = 512 * 1024;

/** What the encryption codec adds to a payload at most: metadata, key id, IV, GCM tag, protobuf framing. */
export const codecOverheadBytes = 512;

/** A message or reply text larger than this is stored once in the archive and carried by reference. */
export const inlineTextMaxBytes = 32 * 1024;

/** One turn answers at most this much message text (two maximum-size CJK messages): what the model reads. */
export const turnTextBudgetBytes = 96 * 1024;

/** The context window keeps at most this many bytes of turns (the newest turn stays, however large). */
export const windowBudgetBytes = 96 * 1024;

/** Archive the unarchived turns once they hold this many bytes (and split segments to fit the budget). */
export const unarchivedBudgetBytes = 64 * 1024;

/** Carried state larger than this goes to the next run by reference (inbox, unarchived turns). */
export const carriedInlineMaxBytes = 256 * 1024;

/** Continue as new once the run's history is this large, whatever the server suggests (it errors at 50 MB). */
export const historyBytesPerRun = 8 * 1024 * 1024;

/** A preview of a text carried by reference: what the Temporal UI shows in its place. */
export const previewChars = 200;

/**
 * Bytes of a message or reply text: a reference's UTF-8 size, or what an inline text takes as JSON (escaping can
 * make a text of control characters six times larger than its UTF-8).
 */
export function textBytes(item: { text: string; textRef?: TextRef }): number {
  return item.textRef?.bytes ?? jsonTextBytes(item.text);
}

/** True when a text may travel inline; larger ones are stored by reference. */
export function fitsInline(text: string): boolean {
  return jsonTextBytes(text) <= inlineTextMaxBytes;
}

function jsonTextBytes(text: string): number {
  return utf8Bytes(JSON.stringify(text));
}

/** UTF-8 length of a string without encoding it (no TextEncoder needed: safe in the workflow sandbox). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one 4-byte code point.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes of a value as the data converter sends it: UTF-8 JSON plus the codec's overhead. */
export function encodedBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? 'null') + codecOverheadBytes;
}

/** The first {@link previewChars} characters, marked as cut. */
export function previewOf(text: string): string {
  return text.length <= previewChars ? text : `${text.slice(0, previewChars)}…`;
}
