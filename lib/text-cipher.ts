/**
 * Encryption at rest for the stores that hold conversation text as strings (Redis values, archive objects), with
 * the same key ring as Temporal's payload codec. Without a key ring it passes text through (development without
 * a key); values written before encryption was enabled stay readable either way.
 */
import { openText, sealText } from './encryption';
import type { KeyRing } from './key-ring';

export interface TextCipher {
  seal(text: string): string;
  /** @throws DecryptionError for a tampered value or one sealed with a key the ring does not have. */
  open(value: string): string;
}

export function createTextCipher(ring: KeyRing | undefined): TextCipher {
  if (!ring) return { seal: (text) => text, open: (value) => value };
  return { seal: (text) => sealText(ring, text), open: (value) => openText(ring, value) };
}
