import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { DecryptionError, open, openText, seal, sealText } from '../lib/encryption';
import { KeyRing, generateKeySpec, parseKeyRing } from '../lib/key-ring';
import { EncryptionCodec, encryptedEncoding } from '../lib/payload-codec';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const text = (bytes: Uint8Array | null | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());

async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

function expectDecryptionError(error: unknown, message: RegExp | string) {
  expect(error).toBeInstanceOf(DecryptionError);
  expect((error as Error).name).toBe('DecryptionError');
  expect((error as Error).message).toMatch(message);
}

describe('payload encryption codec', () => {
  const payloads: Payload[] = [
    defaultPayloadConverter.toPayload({ text: 'hello from alice', turns: [1, 2, 3] }),
    defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])),
    defaultPayloadConverter.toPayload(undefined),
    defaultPayloadConverter.toPayload('ünïcødé ✓'),
  ];

  it('when payloads are encoded then none shows its content and all decode to the originals', async () => {
    const codec = new EncryptionCodec(new KeyRing([k1]));

    const encoded = await codec.encode(payloads);
    const decoded = await codec.decode(encoded);

    for (const payload of encoded) {
      expect(text(payload.metadata?.encoding)).toBe(encryptedEncoding);
      expect(text(payload.metadata?.['encryption-key-id'])).toBe('k1');
      expect(Buffer.from(payload.data!).includes('hello from alice')).toBe(false);
      expect(Buffer.from(payload.data!).includes('json/plain')).toBe(false);
    }
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      { text: 'hello from alice', turns: [1, 2, 3] },
      new Uint8Array([0, 1, 2, 255]),
      undefined,
      'ünïcødé ✓',
    ]);
  });

  it('when a key is prepended then old payloads still decode and new ones use the new key', async () => {
    const before = await new EncryptionCodec(new KeyRing([k1])).encode(payloads.slice(0, 1));
    const rotated = new EncryptionCodec(new KeyRing([k2, k1]));

    const decoded = await rotated.decode(before);
    const after = await rotated.encode(payloads.slice(0, 1));

    expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toEqual({ text: 'hello from alice', turns: [1, 2, 3] });
    expect(text(after[0]!.metadata?.['encryption-key-id'])).toBe('k2');
    expect(defaultPayloadConverter.fromPayload((await rotated.decode(after))[0]!)).toEqual({
      text: 'hello from alice',
      turns: [1, 2, 3],
    });
  });

  it('when one byte of the data is flipped then decoding fails with a DecryptionError', async () => {
    const codec = new EncryptionCodec(new KeyRing([k1]));
    const [payload] = await codec.encode(payloads.slice(0, 1));
    const data = Buffer.from(payload!.data!);
    data[20]! ^= 0x01;

    const error = await caught(() => codec.decode([{ ...payload, data }]));

    expectDecryptionError(error, /authentication failed with key "k1"/);
  });

  it('when the ring has the same id with different key material then decoding fails on authentication', async () => {
    const encoded = await new EncryptionCodec(new KeyRing([k1])).encode(payloads.slice(0, 1));
    const impostor = new EncryptionCodec(new KeyRing([{ id: 'k1', key: randomBytes(32) }]));

    const error = await caught(() => impostor.decode(encoded));

    expectDecryptionError(error, /authentication/);
  });

  it('when the key id is not in the ring then the error names the id and ENCRYPTION_KEYS', async () => {
    const encoded = await new EncryptionCodec(new KeyRing([k2])).encode(payloads.slice(0, 1));

    const error = await caught(() => new EncryptionCodec(new KeyRing([k1])).decode(encoded));

    expectDecryptionError(error, 'no key with id "k2" in the key ring: add it to ENCRYPTION_KEYS');
    expect((error as DecryptionError).keyId).toBe('k2');
  });

  it('when a payload is not encrypted then decode passes it through untouched', async () => {
    const plain = payloads[0]!;

    const [decoded] = await new EncryptionCodec(new KeyRing([k1])).decode([plain]);

    expect(decoded).toBe(plain);
  });
});

describe('sealing bytes and text', () => {
  const ring = new KeyRing([k1]);

  it('when the same plaintext is sealed twice then the ciphertexts differ and both open', () => {
    const plaintext = Buffer.from('same words');

    const a = seal(ring, plaintext);
    const b = seal(ring, plaintext);

    expect(a.sealed.equals(b.sealed)).toBe(false);
    expect(a.sealed.length).toBe(12 + plaintext.length + 16);
    expect(open(ring, a.keyId, a.sealed).toString()).toBe('same words');
    expect(open(ring, b.keyId, b.sealed).toString()).toBe('same words');
  });

  it('when associated data differs then opening fails', async () => {
    const { keyId, sealed } = seal(ring, Buffer.from('x'), Buffer.from('conversation-1'));

    expect(open(ring, keyId, sealed, Buffer.from('conversation-1')).toString()).toBe('x');
    expectDecryptionError(await caught(() => open(ring, keyId, sealed, Buffer.from('conversation-2'))), /authentication/);
  });

  it('when sealed input is shorter than IV and tag then the error says it is too short', async () => {
    expectDecryptionError(await caught(() => open(ring, 'k1', new Uint8Array(27))), /27 bytes, shorter/);
  });

  it('when text is sealed then it is an ASCII token without the text and opens back', () => {
    const secret = 'marker-ñ-7c1e plus emoji 🎉';

    const token = sealText(ring, secret);

    expect(token).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]+$/);
    expect(token).not.toContain('marker');
    expect(openText(ring, token)).toBe(secret);
  });

  it('when a sealed token is tampered with then openText fails', async () => {
    const token = sealText(ring, 'hello');
    const last = token.at(-1) === 'A' ? 'B' : 'A';

    expectDecryptionError(await caught(() => openText(ring, token.slice(0, -1) + last)), /authentication/);
  });

  it('when a value was stored before encryption then openText returns it unchanged', () => {
    expect(openText(ring, '{"text":"legacy"}')).toBe('{"text":"legacy"}');
    expect(openText(ring, '')).toBe('');
  });
});

describe('key ring spec', () => {
  const keyOf = (spec: string) => spec.slice(spec.indexOf(':') + 1);

  it('when a spec lists keys newest first then the first encrypts and all decrypt', () => {
    const newer = generateKeySpec('2026-06');
    const older = generateKeySpec('2026-01');

    const ring = parseKeyRing(`  ${newer} ,\n${older}  `);

    expect(ring.current.id).toBe('2026-06');
    expect(ring.ids()).toEqual(['2026-06', '2026-01']);
    expect(ring.find('2026-01')?.key.equals(Buffer.from(keyOf(older), 'base64'))).toBe(true);
    expect(ring.find('nope')).toBeUndefined();
  });

  it('when a key is generated with the default id then it parses into a dev key', () => {
    const ring = parseKeyRing(generateKeySpec());

    expect(ring.current.id).toMatch(/^dev-\d{4}-\d{2}-\d{2}$/);
    expect(ring.current.key.length).toBe(32);
  });

  it('when the ring is logged then no key material appears', () => {
    const spec = generateKeySpec('k1');

    const ring = parseKeyRing(spec);

    expect(JSON.stringify({ ring })).not.toContain(keyOf(spec));
    expect(JSON.stringify({ ring })).toContain('k1');
  });

  const good = generateKeySpec('good');
  const shortKey = randomBytes(31).toString('base64');
  const cases: [string, string, RegExp, string[]][] = [
    ['the spec is empty', '  ', /empty/, []],
    ['an entry is empty', `${good},,`, /entry 2 is empty/, [keyOf(good)]],
    ['an entry has no id', shortKey, /entry 1 is not in the form id:base64key/, [shortKey]],
    ['a key is not base64', `${good}, k2:not*base64!`, /entry 2 \("k2"\) has a key that is not valid base64/, ['not*base64']],
    ['a key is 31 bytes', `k1:${shortKey}`, /entry 1 \("k1"\) has a 31-byte key; AES-256 needs exactly 32/, [shortKey]],
    ['an id repeats', `${good},${good.replace('good', 'other')},${good}`, /entry 3 repeats the id "good" of entry 1/, [keyOf(good)]],
    ['an id has a bad character', `bad id:${keyOf(good)}`, /entry 1 has an invalid id "bad id"/, [keyOf(good)]],
  ];
  for (const [situation, spec, message, secrets] of cases) {
    it(`when ${situation} then the error says where and what, without key material`, async () => {
      const error = await caught(() => parseKeyRing(spec));

      expect((error as Error).message).toMatch(message);
      for (const secret of secrets) expect((error as Error).message).not.toContain(secret);
    });
  }

  it('when keys are built directly then the constructor rejects bad rings clearly', async () => {
    expect(((await caught(() => new KeyRing([]))) as Error).message).toMatch(/empty/);
    expect(((await caught(() => new KeyRing([k1, k1]))) as Error).message).toMatch(/duplicate key id "k1"/);
    expect(((await caught(() => new KeyRing([{ id: 'k3', key: randomBytes(16) }]))) as Error).message).toMatch(
      /key "k3" is 16 bytes; AES-256 needs exactly 32/,
    );
    expect(((await caught(() => new KeyRing([{ id: 'a:b', key: randomBytes(32) }]))) as Error).message).toMatch(
      /invalid key id "a:b"/,
    );
  });
});
