/**
 * How every process reaches Temporal: one set of connection options and one data converter, shared by
 * the API's client and the workers, so a change here (e.g. a payload codec) applies everywhere at once.
 */
import { readFileSync } from 'node:fs';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { AppConfig } from './config';
import type { KeyRing } from './key-ring';
import { EncryptionCodec } from './payload-codec';

/**
 * The converter every client and worker uses: payloads encrypted with the key ring, when there is one, then any
 * payload still over the budget offloaded by `overflow` (an OverflowCodec, see payload-overflow.ts).
 */
export function dataConverterFor(ring: KeyRing | undefined, overflow?: PayloadCodec): DataConverter {
  const payloadCodecs = codecsFor(ring, overflow);
  return payloadCodecs.length > 0 ? { payloadCodecs } : {};
}

/**
 * The same codecs as one, for the codec server: the Temporal UI then shows encrypted payloads, and offloaded ones
 * fetched back from the archive, as the workers read them.
 */
export function codecServerCodec(ring: KeyRing | undefined, overflow: PayloadCodec): PayloadCodec {
  const codecs = codecsFor(ring, overflow);
  return {
    async encode(payloads) {
      for (const codec of codecs) payloads = await codec.encode(payloads);
      return payloads;
    },
    async decode(payloads) {
      for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
      return payloads;
    },
  };
}

/** Encoded in this order, decoded in the reverse (as the SDK applies `payloadCodecs`). */
function codecsFor(ring: KeyRing | undefined, overflow: PayloadCodec | undefined): PayloadCodec[] {
  return [...(ring ? [new EncryptionCodec(ring)] : []), ...(overflow ? [overflow] : [])];
}

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

export function temporalConnectionOptions(config: AppConfig): TemporalConnectionOptions {
  const { address, apiKey, tls } = config.temporal;
  const options: TemporalConnectionOptions = { address };
  if (apiKey) options.apiKey = apiKey;
  if (tls) {
    const tlsConfig: TLSConfig = {};
    if (tls.serverName) tlsConfig.serverNameOverride = tls.serverName;
    if (tls.caPath) tlsConfig.serverRootCACertificate = readFileSync(tls.caPath);
    if (tls.certPath && tls.keyPath) {
      tlsConfig.clientCertPair = { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) };
    }
    options.tls = tlsConfig;
  } else if (apiKey) {
    // Temporal Cloud API keys only work over TLS.
    options.tls = {};
  }
  return options;
}
