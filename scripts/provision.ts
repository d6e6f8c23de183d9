/**
 * Finds (or builds once) the external binaries the stack and the tests run: the Temporal CLI (its dev server)
 * and MinIO; for the cluster profile, Temporal's server, its SQL schema tool and its web UI. Launch tooling, not app code: it reads process.env directly.
 *
 * Lookup order for each: its env variable, the name on PATH, the project's cache directory (outside the clone,
 * so a fresh CI clone reuses it), else `go install` into that cache directory.
 * @example const temporal = await findTemporalCli(); // "/home/me/.cache/ai-assistant-core/bin/temporal"
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

type Env = Record<string, string | undefined>;

export interface FindBinaryOptions {
  /** Environment to read the lookup variables from (default `process.env`). */
  env?: Env;
  /** Where progress lines go (default stderr). */
  log?: (line: string) => void;
  /** Build with `go install` when not found (default true). */
  build?: boolean;
}

interface BinarySpec {
  /** Executable name on PATH and in the cache (`go install` names it after the package's last element). */
  name: string;
  /** For humans: "the Temporal CLI". */
  title: string;
  /** Variable that points at an existing binary. */
  envVar: string;
  /** `go install` argument, pinned. */
  goPackage: string;
  /** How to get it without Go. */
  installHint: string;
}

/** v1.5.1 is the newest CLI tag whose go.mod has no replace directive, so `go install` works. */
const temporalCli: BinarySpec = {
  name: 'temporal',
  title: 'the Temporal CLI',
  envVar: 'TEMPORAL_CLI_PATH',
  goPackage: 'github.com/temporalio/cli/cmd/temporal@v1.5.1',
  installHint: 'install the Temporal CLI (https://docs.temporal.io/cli) and put `temporal` on PATH',
};

const minio: BinarySpec = {
  name: 'minio',
  title: 'MinIO',
  envVar: 'MINIO_PATH',
  goPackage: 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c',
  installHint: 'install MinIO (https://min.io/download) and put `minio` on PATH',
};

/** The server, SQL tool and UI install as `server`, `sql`, `server`: cached under names of their own. */
const temporalServer: BinarySpec = {
  name: 'temporal-server',
  title: "Temporal's server",
  envVar: 'TEMPORAL_SERVER_PATH',
  goPackage: 'go.temporal.io/server/cmd/server@v1.29.1',
  installHint: 'build it from https://github.com/temporalio/temporal (`make temporal-server`)',
};

const temporalSqlTool: BinarySpec = {
  name: 'temporal-sql-tool',
  title: "Temporal's SQL schema tool",
  envVar: 'TEMPORAL_SQL_TOOL_PATH',
  goPackage: 'go.temporal.io/server/cmd/tools/sql@v1.29.1',
  installHint: 'build it from https://github.com/temporalio/temporal (`make temporal-sql-tool`)',
};

const temporalUiServer: BinarySpec = {
  name: 'temporal-ui-server',
  title: "Temporal's web UI server",
  envVar: 'TEMPORAL_UI_SERVER_PATH',
  goPackage: 'github.com/temporalio/ui-server/v2/cmd/server@v2.42.1',
  installHint: 'build it from https://github.com/temporalio/ui-server',
};

export function findTemporalCli(opts: FindBinaryOptions = {}): Promise<string> {
  return findBinary(temporalCli, opts);
}

export function findMinio(opts: FindBinaryOptions = {}): Promise<string> {
  return findBinary(minio, opts);
}

export function findTemporalServer(opts: FindBinaryOptions = {}): Promise<string> {
  return findBinary(temporalServer, opts);
}

export function findTemporalSqlTool(opts: FindBinaryOptions = {}): Promise<string> {
  return findBinary(temporalSqlTool, opts);
}

export function findTemporalUiServer(opts: FindBinaryOptions = {}): Promise<string> {
  return findBinary(temporalUiServer, opts);
}

/** `$XDG_CACHE_HOME/ai-assistant-core/bin`, default `~/.cache/ai-assistant-core/bin`. */
function cacheBinDir(env: Env = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ai-assistant-core', 'bin');
}

async function findBinary(spec: BinarySpec, opts: FindBinaryOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const explicit = env[spec.envVar];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(`${spec.envVar}=${explicit} is not an executable file; fix or unset ${spec.envVar}`);
  }
  const cached = join(cacheBinDir(env), spec.name);
  const found = onPath(spec.name, env) ?? (isExecutable(cached) ? cached : undefined);
  if (found) return found;

  const go = onPath('go', env);
  if (!go || opts.build === false) {
    throw new Error(
      `${spec.title} not found (checked ${spec.envVar}, PATH, ${cached}). Either install Go (https://go.dev/dl/) so ` +
        `it can be built with \`go install ${spec.goPackage}\`, or ${spec.installHint}, or set ${spec.envVar} ` +
        'to the path of the binary.',
    );
  }
  await goInstall(go, spec, cacheBinDir(env), env, log);
  return cached;
}

async function goInstall(go: string, spec: BinarySpec, binDir: string, env: Env, log: (line: string) => void) {
  // A directory of its own per build: two packages both named `server` must not overwrite each other.
  const buildDir = join(binDir, `.build-${spec.name}`);
  mkdirSync(buildDir, { recursive: true });
  log(`[provision] building ${spec.title} with go install, this takes a few minutes… (go install ${spec.goPackage})`);
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  // Module downloads print nothing: say that the build is alive.
  const heartbeat = setInterval(() => log(`[provision] still building ${spec.title} (${seconds()} s)`), 30_000);
  // -v names each package as it compiles: the progress indicator of a build that runs for minutes.
  const child = spawn(go, ['install', '-v', spec.goPackage], {
    env: { ...env, GOBIN: buildDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => log(`[go] ${line}`));
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearInterval(heartbeat));
  if (code !== 0) throw new Error(`go install ${spec.goPackage} failed with exit code ${code}; see the [go] lines above`);
  const built = join(buildDir, basename(spec.goPackage.split('@')[0]!));
  if (!isExecutable(built)) throw new Error(`go install ${spec.goPackage} succeeded but ${built} is missing`);
  renameSync(built, join(binDir, spec.name));
  rmSync(buildDir, { recursive: true, force: true });
  log(`[provision] built ${join(binDir, spec.name)} in ${seconds()} s`);
}

export function onPath(name: string, env: Env): string | undefined {
  return (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name)).find(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(`temporal:           ${await findTemporalCli()}`);
    console.log(`minio:              ${await findMinio()}`);
    console.log(`temporal-server:    ${await findTemporalServer()}`);
    console.log(`temporal-sql-tool:  ${await findTemporalSqlTool()}`);
    console.log(`temporal-ui-server: ${await findTemporalUiServer()}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
