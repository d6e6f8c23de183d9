/**
 * The codec protocol the Temporal UI (and `temporal workflow show --codec-endpoint`) calls to show encrypted
 * payloads as readable JSON: POST /codec/encode and /codec/decode with `{payloads: [{metadata, data}]}`
 * (base64 values), as Temporal's codec servers speak it. Served on a listener of its own (api/codec-server.ts).
 */
import { z } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { HTTPException } from 'hono/http-exception';
import { DecryptionError } from '../../lib/encryption';
import { audit } from '../audit';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const wirePayloads = z.strictObject({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).default({}), data: base64.default('') })),
});
type WirePayloads = z.infer<typeof wirePayloads>;

export function codecRoutes(deps: { codec: PayloadCodec }, app: Hono) {
  for (const direction of ['encode', 'decode'] as const) {
    app.post(`/codec/${direction}`, async (c) => {
      const body = wirePayloads.safeParse(await c.req.json().catch(() => undefined));
      if (!body.success) {
        const issue = body.error.issues[0];
        throw new HTTPException(400, { message: `expected {payloads: [{metadata, data}]} with base64 values (${issue?.path.join('.')}: ${issue?.message})` });
      }
      try {
        const payloads = await deps.codec[direction](body.data.payloads.map(fromWire));
        if (direction === 'decode') audit(c, 'codec.decode', `${payloads.length} payloads`, 'done');
        return c.json({ payloads: payloads.map(toWire) });
      } catch (error) {
        if (error instanceof DecryptionError) throw new HTTPException(400, { message: error.message });
        throw error;
      }
    });
  }
  return app;
}

function fromWire(payload: WirePayloads['payloads'][number]): Payload {
  const metadata = Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  return { metadata, data: Buffer.from(payload.data, 'base64') };
}

function toWire(payload: Payload): { metadata: Record<string, string>; data: string } {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  );
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}
