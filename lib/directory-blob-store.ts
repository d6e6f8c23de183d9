/**
 * BlobStore over a local directory: the zero-setup archive for `npm start` and single-machine deployments.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { blobKeySegments, blobPrefixDirectory, compareBytes, InvalidBlobKeyError } from './blob-key';
import type { BlobStore } from './blob-store';
import { UnavailableError } from './errors';

/**
 * Keys map to files under `root` (`a/b.jsonl` → `<root>/a/b.jsonl`). Writes go to a dot file beside the target
 * and are renamed over it, so readers never see half a file; dot files are never listed.
 */
export class DirectoryBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: string): Promise<void> {
    const path = this.pathOf(blobKeySegments(key));
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `.${randomUUID()}.tmp`);
    try {
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(body, 'utf8');
        // Flush before the rename: otherwise a power loss can leave the new name pointing at an empty file.
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<string | null> {
    try {
      return await readFile(this.pathOf(blobKeySegments(key)), 'utf8');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(blobKeySegments(key)), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const directory = blobPrefixDirectory(prefix);
    const keys: string[] = [];
    await this.walk(this.pathOf(directory), directory, keys);
    return keys.filter((key) => key.startsWith(prefix)).sort(compareBytes);
  }

  async ping(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      if (!(await stat(this.root)).isDirectory()) throw new Error(`${this.root} is not a directory`);
    } catch (error) {
      throw new UnavailableError('archive', { cause: error });
    }
  }

  private async walk(path: string, segments: string[], keys: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = [...segments, entry.name];
      if (entry.isDirectory()) await this.walk(join(path, entry.name), child, keys);
      else if (entry.isFile()) keys.push(child.join('/'));
    }
  }

  /** Belt and braces: the key rules already exclude `..`, but never touch a path outside the root. */
  private pathOf(segments: string[]): string {
    const path = resolve(this.root, ...segments);
    const inside = relative(this.root, path);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw new InvalidBlobKeyError(segments.join('/'), 'outside the store');
    }
    return path;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  // ENOTDIR: a segment of the key names a file; EISDIR: the key names a directory. Neither is an object.
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
