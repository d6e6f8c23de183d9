/**
 * The encryption keys every store shares, each with an id that travels with the data it sealed, so keys can
 * rotate without downtime: the newest key encrypts, every key in the ring still decrypts.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/** One AES-256 key and the id written next to everything it encrypts. */
export interface EncryptionKey {
  /** Matches {@link keyIdPattern}; stored in payload metadata and text tokens, so never secret. */
  id: string;
  /** Exactly 32 bytes. */
  key: Buffer;
}

/** Key ids appear inside `enc:v1:<id>:…` tokens, so `:` and anything needing escaping is excluded. */
const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const keyBytes = 32;
const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * An ordered, validated set of keys: the first encrypts, all decrypt.
 * @example
 * const ring = new KeyRing([{ id: 'k2', key: newKey }, { id: 'k1', key: oldKey }]);
 * ring.current.id; // 'k2'
 */
export class KeyRing {
  /** The key new data is encrypted with: the first one given. */
  readonly current: EncryptionKey;
  readonly #byId = new Map<string, EncryptionKey>();

  /** @throws Error on an empty list, a duplicate or malformed id, or a key that is not 32 bytes. */
  constructor(keys: EncryptionKey[]) {
    const first = keys[0];
    if (first === undefined) throw new Error('key ring is empty: at least one encryption key is required');
    for (const { id, key } of keys) {
      if (!keyIdPattern.test(id)) {
        throw new Error(`invalid key id ${JSON.stringify(id)}: use 1–64 of A–Z, a–z, 0–9, ".", "_", "-"`);
      }
      if (this.#byId.has(id)) throw new Error(`duplicate key id "${id}" in the key ring`);
      if (key.length !== keyBytes) {
        throw new Error(`key "${id}" is ${key.length} bytes; AES-256 needs exactly ${keyBytes}`);
      }
      // A private copy, so a caller reusing or zeroing its buffer cannot change the ring.
      this.#byId.set(id, Object.freeze({ id, key: Buffer.from(key) }));
    }
    this.current = this.#byId.get(first.id)!;
  }

  /** The key with this id, if the ring has it. */
  find(id: string): EncryptionKey | undefined {
    return this.#byId.get(id);
  }

  /** The ids, newest (encrypting) first. */
  ids(): string[] {
    return [...this.#byId.keys()];
  }

  /** Logging the ring (config dumps, pino) must never print key material. */
  toJSON(): { ids: string[] } {
    return { ids: this.ids() };
  }

  [inspect.custom](): string {
    return `KeyRing { ids: ${JSON.stringify(this.ids())} }`;
  }
}

/**
 * Parses a key ring spec such as the `ENCRYPTION_KEYS` variable.
 *
 * Format: comma-separated `id:base64key` entries, NEWEST FIRST. The first entry encrypts and every entry
 * decrypts, so rotating means prepending a new entry and keeping the old ones until nothing sealed with them
 * remains. Whitespace around entries is ignored. Each key is 32 random bytes in standard base64 (44 characters),
 * as made by {@link generateKeySpec} or `openssl rand -base64 32`.
 * @example
 * parseKeyRing('2026-06:q1Vx…=, 2026-01:Zm9v…=').current.id; // '2026-06'
 * @throws Error naming the entry's position and what is wrong; never the key material.
 */
export function parseKeyRing(spec: string): KeyRing {
  if (spec.trim() === '') throw new Error('key ring spec is empty: expected comma-separated id:base64key entries');
  const keys: EncryptionKey[] = [];
  const seen = new Map<string, number>();
  spec.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    const where = `key ring entry ${index + 1}`;
    if (entry === '') throw new Error(`${where} is empty`);
    const colon = entry.indexOf(':');
    // Without a colon the entry may be a bare key, so it is not echoed.
    if (colon < 0) throw new Error(`${where} is not in the form id:base64key`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1).trim();
    if (!keyIdPattern.test(id)) {
      throw new Error(`${where} has an invalid id ${JSON.stringify(id)}: use 1–64 of A–Z, a–z, 0–9, ".", "_", "-"`);
    }
    const earlier = seen.get(id);
    if (earlier !== undefined) throw new Error(`${where} repeats the id "${id}" of entry ${earlier}`);
    seen.set(id, index + 1);
    // Buffer.from silently skips characters that are not base64, so check the text first.
    if (!base64Pattern.test(encoded)) throw new Error(`${where} ("${id}") has a key that is not valid base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== keyBytes) {
      throw new Error(`${where} ("${id}") has a ${key.length}-byte key; AES-256 needs exactly ${keyBytes}`);
    }
    keys.push({ id, key });
  });
  return new KeyRing(keys);
}

/**
 * Makes one new random key ring entry, `id:base64key`, to prepend to a spec when rotating or to seed a dev key.
 * @param id defaults to `dev-` and today's UTC date, e.g. `dev-2026-06-01`.
 */
export function generateKeySpec(id = `dev-${new Date().toISOString().slice(0, 10)}`): string {
  if (!keyIdPattern.test(id)) throw new Error(`invalid key id ${JSON.stringify(id)}`);
  return `${id}:${randomBytes(keyBytes).toString('base64')}`;
}
