/**
 * How every process reaches Temporal: one set of connection options and one data converter, shared by
 * the API's client and the workers, so a change here (e.g. a payload codec) applies everywhere at once.
 */
import { readFileSync } from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { AppConfig } from './config';
import type { KeyRing } from './key-ring';
import { EncryptionCodec } from './payload-codec';

/** The converter every client and worker uses: payloads encrypted with the key ring, when there is one. */
export function dataConverterFor(ring: KeyRing | undefined): DataConverter {
  return ring ? { payloadCodecs: [new EncryptionCodec(ring)] } : {};
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
