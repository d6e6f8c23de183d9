/**
 * A tamper-evident log of security-relevant actions (sign-in failures, role denials, operators reading others'
 * conversations, resets, deletions, codec decodes, limit hits). Each record's `hash` is SHA-256 over the record itself and
 * `prevHash`, the previous record's hash: an edited, deleted or reordered record breaks the chain, and
 * `npm run audit:verify` names the first record where it breaks.
 *
 * One chain for every API replica: a record is appended in an optimistic Redis transaction on the chain's head
 * (sequence number and hash), to a Redis stream that keeps the recent records, then written to the archive, which
 * keeps all of them (`audit/<id>.json`, the id being the zero-padded sequence number). Both copies are encrypted
 * with the key ring; the hash is over the plaintext.
 * @example await audit.append({ actor: 'olga', roles: ['operator'], action: 'conversation.read', target: 'api:alice:x', outcome: 'allowed' });
 */
import { createHash, randomUUID } from 'node:crypto';
import { AuditCoalescing } from './audit-coalescing';
import type { BlobStore } from './blob-store';
import type { Logger } from './logger';
import type { Redis } from './redis';
import type { TextCipher } from './text-cipher';

export type AuditAction =
  | 'auth.token-refused'
  | 'role.denied'
  | 'conversation.read-other'
  | 'conversation.reset'
  | 'conversation.delete'
  | 'codec.decode'
  | 'limit.exceeded'
  | 'audit.read';

export interface AuditEvent {
  actor: string;
  roles: string[];
  action: AuditAction;
  target: string;
  outcome: 'allowed' | 'denied' | 'done';
  requestId?: string;
  ip?: string;
}

export interface AuditRecord extends Required<AuditEvent> {
  /** The sequence number, zero-padded: ids sort in chain order. */
  id: string;
  at: string;
  prevHash: string;
  hash: string;
}

/** The first record's prevHash. */
export const genesisHash = '0'.repeat(64);
const maxAttempts = 20;
/** Recent records kept in Redis; the archive keeps all. */
const streamLength = 10_000;

export class AuditLog {
  private readonly headKey: string;
  private readonly streamKey: string;
  /** WATCH belongs to a connection: appends get one of their own, one at a time in this process. */
  private connection: Redis | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly coalescing: AuditCoalescing;

  /** @param options.coalesceMs window over which one caller's repeated refusals make one record (0: none). */
  constructor(
    private readonly deps: { redis: Redis; blobs: BlobStore; cipher: TextCipher; logger: Logger },
    keyPrefix: string,
    options: { coalesceMs?: number } = {},
  ) {
    // One hash tag: WATCH and MULTI over both keys work on a Redis Cluster too.
    this.headKey = `${keyPrefix}{audit}:head`;
    this.streamKey = `${keyPrefix}{audit}:log`;
    this.coalescing = new AuditCoalescing((event) => this.recordNow(event), options.coalesceMs ?? 10_000);
  }

  /** Appends a record to the chain; resolves once it is in Redis and the archive. */
  append(event: AuditEvent): Promise<AuditRecord> {
    const appended = this.queue.then(() => this.appendNow(event));
    this.queue = appended.catch(() => undefined);
    return appended;
  }

  /** Writes what coalescing counted, waits for the records being written, then closes the log's connection. */
  async close(): Promise<void> {
    this.coalescing.flush();
    await this.queue;
    this.connection?.disconnect();
  }

  private async appendNow(event: AuditEvent): Promise<AuditRecord> {
    const { blobs, cipher } = this.deps;
    this.connection ??= this.deps.redis.duplicate();
    const connection = this.connection;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      await connection.watch(this.headKey);
      const stored = await connection.get(this.headKey);
      // Redis lost the head (a restart without persistence): the archive has the chain's end.
      const head = stored ? (JSON.parse(stored) as { seq: number; hash: string }) : await this.headFromArchive();
      const record = sealRecord({ id: String(head.seq + 1).padStart(12, '0'), at: new Date().toISOString(), ...withDefaults(event), prevHash: head.hash });
      const sealed = cipher.seal(JSON.stringify(record));
      const committed = await connection
        .multi()
        .set(this.headKey, JSON.stringify({ seq: head.seq + 1, hash: record.hash }))
        .xadd(this.streamKey, 'MAXLEN', '~', streamLength, '*', 'record', sealed)
        .exec();
      if (!committed) continue; // another replica appended first: build on its record
      await blobs.put(archiveKey(record.id), sealed);
      return record;
    }
    throw new Error(`audit: could not append after ${maxAttempts} attempts (too many concurrent writers)`);
  }

  private async headFromArchive(): Promise<{ seq: number; hash: string }> {
    const last = (await this.recordKeys()).at(-1);
    if (!last) return { seq: 0, hash: genesisHash };
    const record = await this.read(last);
    return { seq: Number(record.id), hash: record.hash };
  }

  /**
   * Appends without failing the caller: a record that cannot be written is logged at error, loudly. Repeated
   * refusals from one caller are coalesced (lib/audit-coalescing.ts).
   */
  record(event: AuditEvent): void {
    this.coalescing.record(event);
  }

  private recordNow(event: AuditEvent): void {
    this.append(event).catch((error: unknown) => {
      this.deps.logger.error({ err: error, action: event.action, actor: event.actor }, 'audit record could not be written');
    });
  }

  /** Records after `after` (an id), oldest first, from the archive. */
  async page(after: string | undefined, limit: number): Promise<AuditRecord[]> {
    const keys = (await this.recordKeys()).filter((key) => after === undefined || idOf(key) > after).slice(0, limit);
    return Promise.all(keys.map((key) => this.read(key)));
  }

  /** Every record the archive and Redis hold, by id (a record missing from the archive is taken from Redis). */
  async all(): Promise<{ id: string; record: AuditRecord | undefined; problem?: string }[]> {
    const byId = new Map<string, { record: AuditRecord | undefined; problem?: string }>();
    for (const key of await this.recordKeys()) {
      byId.set(idOf(key), await this.read(key).then((record) => ({ record }), (error: Error) => ({ record: undefined, problem: error.message })));
    }
    for (const [, fields] of await this.deps.redis.xrange(this.streamKey, '-', '+')) {
      const record = this.open(fields[1] ?? '');
      if (record && !byId.has(record.id)) byId.set(record.id, { record, problem: 'missing from the archive (Redis still has it)' });
    }
    return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, entry]) => ({ id, ...entry }));
  }

  /** The archive's record objects, in chain order (anything else under audit/ is not a record). */
  private async recordKeys(): Promise<string[]> {
    return (await this.deps.blobs.list('audit/')).filter((key) => /^audit\/\d{12}\.json$/.test(key));
  }

  private async read(key: string): Promise<AuditRecord> {
    const body = await this.deps.blobs.get(key);
    const record = body === null ? undefined : this.open(body);
    if (!record) throw new Error(`${key} is unreadable`);
    return record;
  }

  private open(sealed: string): AuditRecord | undefined {
    try {
      return JSON.parse(this.deps.cipher.open(sealed)) as AuditRecord;
    } catch {
      return undefined;
    }
  }
}

/**
 * Checks the chain: each record's hash over its own content, each prevHash against the record before, ids in
 * sequence. Returns the first break, or undefined when the whole chain holds.
 */
export function verifyChain(entries: { id: string; record: AuditRecord | undefined; problem?: string }[]): { id: string; reason: string } | undefined {
  let prevHash = genesisHash;
  let expected = 1;
  for (const { id, record, problem } of entries) {
    if (!record || problem) return { id, reason: problem ?? 'unreadable' };
    if (Number(record.id) !== expected) return { id, reason: `expected record ${String(expected).padStart(12, '0')} here (a record was deleted or reordered)` };
    if (record.prevHash !== prevHash) return { id, reason: 'its prevHash is not the previous record\'s hash (a record before it was changed, deleted or reordered)' };
    if (sealRecord(record).hash !== record.hash) return { id, reason: 'its content does not match its hash (the record was edited)' };
    prevHash = record.hash;
    expected += 1;
  }
  return undefined;
}

/** The record with its hash: SHA-256 over its fields in a fixed order, prevHash included, hash excluded. */
function sealRecord(record: Omit<AuditRecord, 'hash'>): AuditRecord {
  const { id, at, actor, roles, action, target, outcome, requestId, ip, prevHash } = record;
  const content = { id, at, actor, roles, action, target, outcome, requestId, ip, prevHash };
  return { ...content, hash: createHash('sha256').update(JSON.stringify(content)).digest('hex') };
}

function withDefaults(event: AuditEvent): Required<AuditEvent> {
  return { requestId: randomUUID(), ip: '', ...event };
}

function archiveKey(id: string): string {
  return `audit/${id}.json`;
}

function idOf(key: string): string {
  return key.slice('audit/'.length, -'.json'.length);
}
