/**
 * Compiles the two app processes (workers/main.ts, api/main.ts) into plain JavaScript with esbuild, so they run on
 * `node` alone: tsx's loader thread and the sources it compiled stay in every process (the API's RSS on `npm start`
 * was ~100 MB more under tsx, a worker's ~20 MB). The project's own modules are bundled into a file per entry and
 * chunks (`chunks/`) for what is shared or imported on demand; packages stay imports of node_modules. The launcher
 * builds at every start (under a second) into node_modules/.cache/; `npm run build` builds into dist/ for images.
 * @example const { worker, api } = await buildAppsCached(); // then: node --enable-source-maps <worker>
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type OutputFile, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Entry points by output name: the output paths keep `workers/main` and `api/main`, the names operators grep for. */
const entries = { 'workers/main': 'workers/main.ts', 'api/main': 'api/main.ts' } as const;

export interface BuiltApps {
  /** The worker's entry file: run it with {@link nodeArgs}. */
  worker: string;
  api: string;
}

/**
 * Node's flags for a built entry: stack traces name the TypeScript sources, and V8's young generation is kept small.
 * Its default (16 MB semi-spaces, in each isolate: the main thread's and the workflow thread's) is mostly garbage
 * between collections that RSS still counts: 2 MB took ~100 MB off a worker with 300 conversations and ~65 MB off
 * the API, with no change in turns per second or turn latency the bench could show (README: Performance).
 */
export const nodeArgs = ['--enable-source-maps', '--max-semi-space-size=2'];

/** Builds of this checkout, one folder each: inside node_modules, so the packages the entries import resolve. */
const cacheDir = join(root, 'node_modules/.cache/ai-assistant-core');
/** Builds kept besides the newest: a stack still running an older one can restart its processes from it. */
const keptBuilds = 10;

/** Builds into `outdir` (which must lie inside the checkout, for the packages to resolve). */
export async function buildApps(outdir: string): Promise<BuiltApps> {
  await writeOutputs(await compile(outdir));
  return entryFiles(outdir);
}

/**
 * Builds into the cache, in a folder named after the output's hash: launchers running at the same time (tests) share
 * a build instead of writing over each other's files, and an unchanged checkout builds to the folder it had.
 */
export async function buildAppsCached(): Promise<BuiltApps> {
  const staged = join(cacheDir, 'build');
  const outputs = await compile(staged);
  const hash = createHash('sha256');
  for (const output of outputs) hash.update(relative(staged, output.path)).update(output.contents);
  const outdir = `${staged}-${hash.digest('hex').slice(0, 16)}`;
  if (!existsSync(outdir)) {
    await mkdir(cacheDir, { recursive: true });
    const temporary = await mkdtemp(`${staged}-tmp-`);
    await writeOutputs(outputs.map((output) => ({ ...output, path: join(temporary, relative(staged, output.path)) })));
    await rename(temporary, outdir).catch(async (error: unknown) => {
      await rm(temporary, { recursive: true, force: true });
      // Another launcher renamed the same build into place first.
      if (!existsSync(outdir)) throw error;
    });
  }
  await pruneBuilds(outdir);
  return entryFiles(outdir);
}

async function compile(outdir: string): Promise<OutputFile[]> {
  const { outputFiles } = await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir,
    write: false,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    // Modules imported on demand (the Telegram reply worker, the tracing SDK) become chunks of their own, so that
    // the packages only they import are loaded only when they are; modules both entries use share a chunk too.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
    plugins: [sourceFileUrls],
  });
  return outputFiles;
}

async function writeOutputs(outputs: Pick<OutputFile, 'path' | 'contents'>[]): Promise<void> {
  for (const output of outputs) {
    await mkdir(dirname(output.path), { recursive: true });
    await writeFile(output.path, output.contents);
  }
}

function entryFiles(outdir: string): BuiltApps {
  return { worker: join(outdir, 'workers/main.js'), api: join(outdir, 'api/main.js') };
}

/** Removes all but the newest builds; `current` was just used, so it counts as the newest. */
async function pruneBuilds(current: string): Promise<void> {
  const now = new Date();
  await utimes(current, now, now);
  const builds = (await readdir(cacheDir)).filter((name) => /^build-[0-9a-f]{16}$/.test(name)).map((name) => join(cacheDir, name));
  const byAge = await Promise.all(builds.map(async (path) => ({ path, usedAt: (await stat(path)).mtimeMs })));
  byAge.sort((a, b) => b.usedAt - a.usedAt);
  for (const old of byAge.slice(keptBuilds + 1)) await rm(old.path, { recursive: true, force: true });
}

/**
 * A bundled module's `import.meta.url` would be the bundle's: each module finds its files next to its source (the
 * workflow code, the GraphQL schema, the chat page), so it gets its source file's URL. An entry keeps the bundle's,
 * which is how it knows it is the process's main module (lib/run-as-main.ts).
 */
const sourceFileUrls: Plugin = {
  name: 'source-file-urls',
  setup(plugin) {
    const entryFiles = new Set(Object.values(entries).map((file) => join(root, file)));
    plugin.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const contents = entryFiles.has(path) ? source : source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href));
      return { contents, loader: 'ts' };
    });
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const built = await buildApps(join(root, 'dist'));
    console.log(`built ${relative(root, built.worker)} and ${relative(root, built.api)}: run each with node ${nodeArgs.join(' ')}`);
  } catch (error) {
    console.error(`build failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
