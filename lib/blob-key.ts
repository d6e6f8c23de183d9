/**
 * The one rule for blob keys, shared by both backends so a key valid for one is valid for the other and an
 * archive can move between them.
 */

/** A key or list prefix that could escape the store's root or collide with its bookkeeping files. */
export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
  constructor(readonly key: string, reason: string) {
    super(`invalid blob key "${key}": ${reason}`);
  }
}

/**
 * Checks a key: non-empty `/`-separated segments, none starting with `.` (which also rules out `.` and `..`,
 * and leaves dot files to the directory store's in-flight writes), no backslash or control characters.
 * @returns the key's segments.
 * @throws InvalidBlobKeyError
 */
export function blobKeySegments(key: string): string[] {
  if (key === '') throw new InvalidBlobKeyError(key, 'empty');
  const segments = key.split('/');
  for (const segment of segments) checkSegment(key, segment);
  return segments;
}

/**
 * Checks a list prefix: like a key, except that it may be empty, may end with `/`, and its last segment may be
 * any beginning of a name (except one starting with `.`).
 * @returns the complete directory segments of the prefix (everything before its last `/`).
 */
export function blobPrefixDirectory(prefix: string): string[] {
  if (prefix === '') return [];
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  for (const segment of segments) checkSegment(prefix, segment);
  if (last !== '') checkSegment(prefix, last);
  return segments;
}

function checkSegment(key: string, segment: string): void {
  if (segment === '') throw new InvalidBlobKeyError(key, 'empty path segment');
  if (segment.startsWith('.')) throw new InvalidBlobKeyError(key, 'a segment may not start with "."');
  if (/[\\\u0000-\u001f\u007f]/.test(segment)) throw new InvalidBlobKeyError(key, 'backslash or control character');
}

/** S3 lists keys in UTF-8 byte order; both backends sort this way so they page identically. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
