/**
 * Files served as they are from one folder (the chat page's build, Swagger UI's assets): the content type from the
 * extension, gzip when the client accepts it (compressed once and kept, as such files do not change while the API
 * runs), and the caller's headers (caching). Names are single path segments: nothing outside the folder can be named.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Smaller files are sent as they are: gzip would save next to nothing. */
const gzipFromBytes = 1024;

const fileName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface LoadedFile {
  type: string;
  body: Buffer;
  gzip?: Buffer;
}

export interface StaticFolderOptions {
  /** Headers of every response, e.g. `cache-control`. */
  headers: Record<string, string>;
  /** Serve only these names (default: every file of a known type). */
  only?: readonly string[];
}

export class StaticFolder {
  private readonly loaded = new Map<string, Promise<LoadedFile | undefined>>();

  constructor(
    private readonly dir: string,
    private readonly options: StaticFolderOptions,
  ) {}

  /** The file called `name` as a response, or undefined when the folder has none to serve by that name. */
  async respond(c: Context, name: string): Promise<Response | undefined> {
    const type = contentTypes[extname(name)];
    if (!type || !fileName.test(name) || (this.options.only && !this.options.only.includes(name))) return undefined;
    let loading = this.loaded.get(name);
    if (!loading) {
      loading = load(join(this.dir, name), type);
      this.loaded.set(name, loading);
    }
    const file = await loading;
    if (!file) {
      this.loaded.delete(name); // a later build may add it
      return undefined;
    }
    const gzip = file.gzip && acceptsGzip(c.req.header('accept-encoding')) ? file.gzip : undefined;
    return c.body(new Uint8Array(gzip ?? file.body), 200, {
      ...this.options.headers,
      'content-type': file.type,
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
  }
}

async function load(path: string, type: string): Promise<LoadedFile | undefined> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const compressible = type.startsWith('text/') || type.includes('json') || type.includes('svg');
  return { type, body, ...(compressible && body.length >= gzipFromBytes ? { gzip: gzipSync(body) } : {}) };
}

/** `Accept-Encoding` names gzip, and not with q=0. */
function acceptsGzip(header: string | undefined): boolean {
  return /(?:^|,)\s*gzip\s*(?:,|$|;\s*q=(?!0(?:\.0*)?\s*(?:,|$)))/i.test(header ?? '');
}
