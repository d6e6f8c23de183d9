/**
 * Builds the chat page (channels/web/page/) with Vite into its dist/ folder, which the API serves at `/`.
 * `npm run build:web` type-checks the page, builds it and prints what the browser downloads (gzip sizes). The
 * launcher calls ensureWebPage(), which builds only when the output is missing or older than the sources.
 * @example await ensureWebPage((line) => console.log(line));
 */
import { readdirSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { webPageOutDir, webPageRoot, webPageSources } from '../channels/web/page/paths';
import { describeExit, spawnChild } from './child-process';

type Log = (line: string) => void;

export interface BuiltFile {
  /** Relative to the output folder, e.g. `assets/index-3f9c1a.js`. */
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface BuildOptions {
  log: Log;
  /** Type-check the page's sources first (Vite only strips types); a type error fails the build. */
  typecheck?: boolean;
}

/** The lock file too: upgraded dependencies make a different bundle. */
const lockFile = fileURLToPath(new URL('../package-lock.json', import.meta.url));

/** The page's TypeScript programs: its browser code and its Vite config. */
const pagePrograms = ['tsconfig.app.json', 'tsconfig.node.json'];

/**
 * Builds the page into {@link webPageOutDir} and returns its files with their sizes. Vite runs as a child process:
 * its types would bring the DOM's into the server's program, and its memory is gone when it exits.
 */
export async function buildWebPage({ log, typecheck = false }: BuildOptions): Promise<BuiltFile[]> {
  if (typecheck) await typecheckWebPage();
  log(`[web] building the chat page into ${relative(process.cwd(), webPageOutDir) || '.'}…`);
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  // NODE_ENV decides which React and Material UI go in (a test runner sets it to `test`): always the production ones.
  const env = { ...process.env, NODE_ENV: 'production' };
  const build = spawnChild('vite', process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: webPageRoot, env, log });
  const exit = await build.exited;
  if (exit.code !== 0) throw new Error(`vite build ${describeExit(exit)}; see the [vite] lines above`);
  return builtFiles();
}

/** Builds the page when its output is missing or older than its sources; otherwise does nothing. */
export async function ensureWebPage(log: Log): Promise<void> {
  const built = modifiedAt(join(webPageOutDir, 'index.html'));
  if (built !== undefined && built >= newestSource()) return;
  const files = await buildWebPage({ log });
  log(`[web] chat page built: ${describeSizes(files)}`);
}

/** "921.9 kB (gzip 283.6 kB) in 3 files": the output's size, and what it weighs over the wire. */
export function describeSizes(files: BuiltFile[]): string {
  const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
  const sum = (pick: (file: BuiltFile) => number) => files.reduce((total, file) => total + pick(file), 0);
  return `${kB(sum((f) => f.bytes))} (gzip ${kB(sum((f) => f.gzipBytes))}) in ${files.length} files`;
}

async function builtFiles(): Promise<BuiltFile[]> {
  const names = await readdir(webPageOutDir, { recursive: true, withFileTypes: true });
  const files = names.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  return Promise.all(
    files.sort().map(async (path) => {
      const body = await readFile(path);
      return { file: relative(webPageOutDir, path), bytes: body.length, gzipBytes: gzipSync(body).length };
    }),
  );
}

async function typecheckWebPage(): Promise<void> {
  // Loaded here: the launcher imports this module and never type-checks.
  const { default: ts } = await import('typescript');
  const diagnostics = pagePrograms.flatMap((name) => {
    const { config, error } = ts.readConfigFile(join(webPageRoot, name), ts.sys.readFile);
    if (error) return [error];
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, webPageRoot);
    return [...parsed.errors, ...ts.getPreEmitDiagnostics(ts.createProgram(parsed.fileNames, parsed.options))];
  });
  if (diagnostics.length === 0) return;
  const host = { getCanonicalFileName: (name: string) => name, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
  throw new Error(`the chat page has type errors:\n${ts.formatDiagnostics(diagnostics, host)}`);
}

/** The newest modification time among the page's sources (folders are walked). */
function newestSource(): number {
  const newest = (path: string): number => {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (!stats) return 0;
    if (!stats.isDirectory()) return stats.mtimeMs;
    return Math.max(stats.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  return Math.max(...[...webPageSources, lockFile].map(newest));
}

function modifiedAt(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const log = (line: string) => console.log(line);
    const files = await buildWebPage({ log, typecheck: true });
    for (const file of files) console.log(`  ${file.file.padEnd(40)} ${String(file.bytes).padStart(9)} B   gzip ${String(file.gzipBytes).padStart(8)} B`);
    console.log(`[web] chat page built: ${describeSizes(files)}`);
  } catch (error) {
    console.error(`[web] ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
