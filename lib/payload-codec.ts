/**
 * The Temporal payload codec that keeps conversation content out of Temporal's database in plaintext. Every
 * client and worker uses it, and the codec server runs it for the UI.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS package: under Node's own ESM loader only its default export is reliable.
import proto from '@temporalio/proto';
import { DecryptionError, open, seal } from './encryption';
import type { KeyRing } from './key-ring';

const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** The `encoding` metadata value marking a payload this codec sealed. */
export const encryptedEncoding = 'binary/encrypted';

const keyIdMetadata = 'encryption-key-id';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Seals each whole payload (metadata included, so even the original encoding is hidden) with the ring's current
 * key and records that key's id in the outer metadata, so any key in the ring can decode it later.
 * @example
 * const dataConverter = { payloadCodecs: [new EncryptionCodec(parseKeyRing(config.encryptionKeys))] };
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const { keyId, sealed } = seal(this.ring, ProtoPayload.encode(payload).finish());
      return {
        // Fresh arrays per payload: the SDK may hand these on to code that mutates them.
        metadata: { encoding: encoder.encode(encryptedEncoding), [keyIdMetadata]: encoder.encode(keyId) },
        data: sealed,
      };
    });
  }

  /**
   * Payloads not marked `binary/encrypted` pass through unchanged: histories recorded before encryption was
   * enabled, or written by an unencrypted client, must stay readable.
   * @throws DecryptionError naming the key id.
   */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || decoder.decode(encoding) !== encryptedEncoding) return payload;
      const keyIdBytes = payload.metadata?.[keyIdMetadata];
      if (!keyIdBytes) throw new DecryptionError(`encrypted payload has no "${keyIdMetadata}" metadata`);
      const keyId = decoder.decode(keyIdBytes);
      const plaintext = open(this.ring, keyId, payload.data ?? new Uint8Array());
      try {
        return ProtoPayload.decode(plaintext);
      } catch (cause) {
        // Unreachable unless something sealed non-payload bytes with a ring key: GCM already authenticated them.
        throw new DecryptionError(`payload sealed with key "${keyId}" is not a Temporal payload`, keyId, { cause });
      }
    });
  }
}
