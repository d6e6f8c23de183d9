/**
 * The data converter's last line of defence for the payload budget: a payload codec that stores any payload
 * still over the budget after encryption in the archive and sends Temporal a small reference instead (the claim
 * check pattern Temporal recommends). The workflow plans to stay well inside the budget, so this is for what
 * nobody planned (a signal sent around the edge, a bug): Temporal then never sees a payload over the budget on
 * any path and never terminates a run for one. Each use is logged as a warning: it means a path needs a bound.
 *
 * Not the SDK's own external storage (`DataConverter.externalStorage`, experimental in SDK 1.24): its reference
 * encoder fails here ("type must be a Type": two protobufjs majors in the dependency tree), failing every
 * workflow task that would use it.
 */
import { createHash } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS package: under Node's own ESM loader only its default export is reliable.
import proto from '@temporalio/proto';
import { payloadBudgetBytes } from '../workflows/payload-budget';
import type { BlobStore } from './blob-store';
import type { Logger } from './logger';

const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** The `encoding` metadata value of a reference this codec wrote. */
export const overflowEncoding = 'binary/archive-reference';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface OverflowReference {
  key: string;
  sha256: string;
  bytes: number;
}

/**
 * Payloads larger than the budget go to `payloads/<sha256>` in the archive (base64 of the whole payload as the
 * codecs before this one left it: encrypted when there is a key ring). Put it last among the codecs.
 * @example
 * const dataConverter = { payloadCodecs: [new EncryptionCodec(ring), new OverflowCodec(blobs, logger)] };
 */
export class OverflowCodec implements PayloadCodec {
  constructor(
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const bytes = ProtoPayload.encode(payload).finish();
        if (bytes.length <= payloadBudgetBytes) return payload;
        const sha256 = digest(bytes);
        const reference: OverflowReference = { key: `payloads/${sha256}`, sha256, bytes: bytes.length };
        this.logger.warn({ ...reference, budget: payloadBudgetBytes }, 'a payload exceeded the budget: stored in the archive, Temporal carries a reference');
        await this.blobs.put(reference.key, Buffer.from(bytes).toString('base64'));
        return { metadata: { encoding: encoder.encode(overflowEncoding) }, data: encoder.encode(JSON.stringify(reference)) };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = payload.metadata?.encoding;
        if (!encoding || decoder.decode(encoding) !== overflowEncoding) return payload;
        const { key, sha256 } = JSON.parse(decoder.decode(payload.data ?? new Uint8Array())) as OverflowReference;
        const body = await this.blobs.get(key);
        if (body === null) throw new Error(`offloaded payload ${key} is missing from the archive`);
        const bytes = Buffer.from(body, 'base64');
        if (digest(bytes) !== sha256) throw new Error(`offloaded payload ${key} does not match its digest`);
        return ProtoPayload.decode(bytes);
      }),
    );
  }
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
