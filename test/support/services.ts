/**
 * Addresses of the real servers the suites talk to, started once by test/support/global-setup.ts
 * and handed to every suite through vitest's provide/inject.
 */
import { inject } from 'vitest';

export interface TestServices {
  /** gRPC address of the Temporal dev server (namespace `default`). */
  temporalAddress: string;
  /** Path of the `temporal` CLI binary the setup used. */
  temporalCliPath: string;
  redisUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: TestServices;
  }
}

export function testServices(): TestServices {
  return inject('services');
}
