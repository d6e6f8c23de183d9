/**
 * Where archived transcripts live: a flat key → text store with the few operations the archive needs,
 * implemented over S3 (s3-blob-store.ts) or a local directory (directory-blob-store.ts).
 */
import type { AppConfig } from './config';
// Both import only the BlobStore type from here, so there is no import cycle at run time.
import { DirectoryBlobStore } from './directory-blob-store';
import { S3BlobStore } from './s3-blob-store';

/**
 * Keys are `/`-separated paths such as `conversations/api%3Aalice%3Ademo/0000000001.jsonl`
 * (rules in blob-key.ts; both backends accept exactly the same keys).
 */
export interface BlobStore {
  /** Writes the whole object; a reader sees either the old body or the new one, never a partial write. */
  put(key: string, body: string): Promise<void>;
  /** The object's body, or null when there is no such key. */
  get(key: string): Promise<string | null>;
  /** Every key that starts with `prefix` (all pages), sorted in ascending byte order. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object; a key that does not exist is no error. */
  delete(key: string): Promise<void>;
  /** Resolves when the store is reachable and usable; throws UnavailableError('archive') otherwise. */
  ping(): Promise<void>;
}

/**
 * The configured backend: S3 when `archive.s3.bucket` is set, else the directory `archiveDir`.
 * @example
 * const history = new TranscriptArchive(createBlobStore(config));
 */
export function createBlobStore(config: AppConfig): BlobStore {
  const s3 = config.archive.s3;
  if (s3.bucket) {
    return new S3BlobStore({
      bucket: s3.bucket,
      region: s3.region,
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      prefix: s3.prefix,
    });
  }
  return new DirectoryBlobStore(config.archiveDir);
}
