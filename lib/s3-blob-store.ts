/**
 * BlobStore over S3 or any S3-compatible server (MinIO in tests and on premises).
 */
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { blobKeySegments, blobPrefixDirectory, compareBytes } from './blob-key';
import type { BlobStore } from './blob-store';
import { UnavailableError } from './errors';

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server (MinIO); omit for AWS. Implies path-style addressing. */
  endpoint?: string;
  /** Omit both to use the SDK's default credential chain (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Prepended to every key inside the bucket, e.g. `prod/`; keys returned by `list` do not include it. */
  prefix?: string;
}

/**
 * Objects are stored under `<prefix><key>`. The bucket is created on first use when it does not exist
 * (or call `ensureBucket()` at start-up to fail early).
 */
export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private bucketReady: Promise<void> | undefined;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    const config: S3ClientConfig = {
      region: options.region,
      // Without timeouts a stalled S3 connection holds an activity until its start-to-close timeout.
      requestHandler: { connectionTimeout: 5000, requestTimeout: 30_000, throwOnRequestTimeout: true },
      // Callers retry on their own (Temporal for activities, the client for the API): one SDK retry is plenty.
      maxAttempts: 2,
    };
    if (options.endpoint) {
      config.endpoint = options.endpoint;
      // MinIO and most S3-compatible servers do not serve virtual-host-style bucket names.
      config.forcePathStyle = true;
    }
    if (options.accessKeyId && options.secretAccessKey) {
      config.credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
    }
    this.client = new S3Client(config);
  }

  /** Creates the bucket unless it exists. Safe to call repeatedly and from several processes at once. */
  ensureBucket(): Promise<void> {
    this.bucketReady ??= this.createBucketIfMissing().catch((error: unknown) => {
      // Forget the failure so the next call tries again (S3 may just have been unreachable).
      this.bucketReady = undefined;
      throw error;
    });
    return this.bucketReady;
  }

  async put(key: string, body: string): Promise<void> {
    blobKeySegments(key);
    await this.guard(async () => {
      await this.ensureBucket();
      await this.client.send(new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.prefix + key,
        Body: body,
        ContentType: key.endsWith('.jsonl') ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8',
      }));
    });
  }

  async get(key: string): Promise<string | null> {
    blobKeySegments(key);
    return this.guard(async () => {
      await this.ensureBucket();
      try {
        const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        return (await object.Body?.transformToString('utf-8')) ?? '';
      } catch (error) {
        if (errorName(error) === 'NoSuchKey') return null;
        throw error;
      }
    });
  }

  async delete(key: string): Promise<void> {
    blobKeySegments(key);
    await this.guard(async () => {
      await this.ensureBucket();
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    });
  }

  async list(prefix: string): Promise<string[]> {
    blobPrefixDirectory(prefix);
    return this.guard(() => this.listAll(prefix));
  }

  private async listAll(prefix: string): Promise<string[]> {
    await this.ensureBucket();
    const keys: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: this.prefix + prefix,
        ContinuationToken: continuationToken,
      }));
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key.slice(this.prefix.length));
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    return keys.sort(compareBytes);
  }

  async ping(): Promise<void> {
    try {
      // HeadBucket answers 404 for a missing bucket: that is still a reachable S3, and first use creates it.
      this.bucketReady = undefined;
      await this.ensureBucket();
    } catch (error) {
      throw new UnavailableError('archive', { cause: error });
    }
  }

  /** S3 unreachable, timing out or failing server-side becomes UnavailableError('archive') (→ 503, retry). */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const status = httpStatus(error);
      if (status === undefined || status >= 500) throw new UnavailableError('archive', { cause: error });
      throw error;
    }
  }

  /** Releases the HTTP connections (for tests and graceful shutdown). */
  close(): void {
    this.client.destroy();
  }

  private async createBucketIfMissing(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // Another process created it between our HEAD and CREATE.
      if (errorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
    }
  }
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}
