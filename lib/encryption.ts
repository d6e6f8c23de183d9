/**
 * AES-256-GCM with a key ring: one sealing format for Temporal payloads, Redis values and archive objects, so a
 * single `ENCRYPTION_KEYS` protects every store.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './key-ring';

const algorithm = 'aes-256-gcm';
/** 96 bits is GCM's native IV size; random per seal, so one key must not seal more than ~2^32 messages. */
const ivBytes = 12;
const tagBytes = 16;
const textPrefix = 'enc:v1:';

/** Data could not be decrypted: unknown key id, truncated input, or failed authentication. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  constructor(message: string, readonly keyId?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Encrypts and authenticates bytes with the ring's current key.
 *
 * Layout of `sealed`: 12-byte random IV ‖ ciphertext (same length as the plaintext) ‖ 16-byte GCM tag.
 * The key id is returned separately; the caller stores it next to `sealed` (payload metadata, text token).
 * @param associatedData authenticated but not encrypted; the same bytes must be passed to {@link open}.
 */
export function seal(
  ring: KeyRing,
  plaintext: Uint8Array,
  associatedData?: Uint8Array,
): { keyId: string; sealed: Buffer } {
  const { id, key } = ring.current;
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv(algorithm, key, iv, { authTagLength: tagBytes });
  if (associatedData) cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { keyId: id, sealed: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]) };
}

/**
 * Reverses {@link seal} with the key named `keyId`.
 * @throws DecryptionError if the ring lacks the key, the input is too short, or authentication fails.
 */
export function open(ring: KeyRing, keyId: string, sealed: Uint8Array, associatedData?: Uint8Array): Buffer {
  const entry = ring.find(keyId);
  if (!entry) {
    throw new DecryptionError(`no key with id "${keyId}" in the key ring: add it to ENCRYPTION_KEYS`, keyId);
  }
  if (sealed.length < ivBytes + tagBytes) {
    throw new DecryptionError(
      `sealed data for key "${keyId}" is ${sealed.length} bytes, shorter than IV and tag (${ivBytes + tagBytes})`,
      keyId,
    );
  }
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const decipher = createDecipheriv(algorithm, entry.key, bytes.subarray(0, ivBytes), { authTagLength: tagBytes });
  decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
  if (associatedData) decipher.setAAD(associatedData);
  try {
    return Buffer.concat([decipher.update(bytes.subarray(ivBytes, bytes.length - tagBytes)), decipher.final()]);
  } catch (cause) {
    throw new DecryptionError(
      `authentication failed with key "${keyId}": the data was modified, or "${keyId}" holds different key material than when it was sealed`,
      keyId,
      { cause },
    );
  }
}

/**
 * Seals text into a self-describing ASCII token, `enc:v1:<keyId>:<base64url(sealed)>`, for stores that hold
 * strings (Redis values, archive objects).
 */
export function sealText(ring: KeyRing, text: string): string {
  const { keyId, sealed } = seal(ring, Buffer.from(text, 'utf8'));
  return `${textPrefix}${keyId}:${sealed.toString('base64url')}`;
}

/**
 * Reverses {@link sealText}. A value that does not start with `enc:v1:` is returned unchanged, so data written
 * before encryption was enabled stays readable; it is re-sealed whenever it is next written.
 * @throws DecryptionError if the token is malformed or does not decrypt.
 */
export function openText(ring: KeyRing, value: string): string {
  if (!value.startsWith(textPrefix)) return value;
  const rest = value.slice(textPrefix.length);
  // Key ids cannot contain ':', so the first one ends the id.
  const colon = rest.indexOf(':');
  if (colon <= 0) throw new DecryptionError('malformed encrypted value: missing key id');
  const keyId = rest.slice(0, colon);
  return open(ring, keyId, Buffer.from(rest.slice(colon + 1), 'base64url')).toString('utf8');
}
