/**
 * What the simulated users write: a short head that says which message it is (the Telegram marker first, see
 * markers.ts), and, for the share of messages `--large-share` picks, CJK text up to near the channel's size limit.
 * CJK is the worst case for the limits: one UTF-16 unit but three UTF-8 bytes per character.
 */

/**
 * Length of a large message per channel, in characters. API: under `api.max_text_chars` (16,000), and ~48 KB of
 * UTF-8 under `api.max_body_bytes` (64 KiB) with the JSON around it. Telegram: a user message holds at most 4096.
 */
export const largeMessageChars = { api: 15_900, telegram: 4_000 } as const;

/** A plain sentence to repeat: BMP characters only, each three bytes of UTF-8, none that JSON escapes. */
const cjkFiller = '混沌演练正在发送一条很长的消息，用来证明工作进程被杀死时回复既不丢失也不重复，而且顺序不变。';

/**
 * Whether message number `sequence` (0-based, counted in a fixed order over a channel's users) is large: exactly
 * `share` of every run of messages, spread evenly, the same in every drill.
 * @example [0, 1, 2, 3, 4].filter((k) => isLargeMessage(k, 0.2)) // [4]
 */
export function isLargeMessage(sequence: number, share: number): boolean {
  // Parts per million in integers: floating-point products such as 0.29 * 100 would shift the picks.
  const ppm = Math.round(share * 1_000_000);
  return Math.floor(((sequence + 1) * ppm) / 1_000_000) > Math.floor((sequence * ppm) / 1_000_000);
}

/** A message of `chars` characters that starts with `head`, as the drill always wrote them (never shorter than the head). */
export function plainText(head: string, chars: number): string {
  return (head + 'lorem ipsum dolor sit amet '.repeat(Math.ceil(chars / 27))).slice(0, Math.max(chars, head.length)).trim();
}

/** `text` padded with CJK characters to exactly `chars` characters; the start, and so any marker, stays intact. */
export function padWithCjk(text: string, chars: number): string {
  const missing = chars - text.length;
  if (missing <= 0) return text;
  return text + cjkFiller.repeat(Math.ceil(missing / cjkFiller.length)).slice(0, missing);
}
