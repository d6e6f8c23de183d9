/**
 * The Temporal dev server (`temporal server start-dev`) as the launcher and the test setup run it,
 * plus registration of the project's search attributes on an existing database file.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnChild, describeExit, type ChildHandle } from './child-process';
import { waitUntil } from './wait-until';

const run = promisify(execFile);

export interface DevServerOptions {
  /** Path of the `temporal` CLI (see findTemporalCli). */
  cli: string;
  port: number;
  /** Web UI port; omitted means headless. */
  uiPort?: number;
  /** Codec server the UI decodes payloads with (the API's /codec). */
  uiCodecEndpoint?: string;
  /** SQLite file; omitted means in memory (lost when the process ends). */
  dbFile?: string;
  namespace?: string;
  /**
   * No syncs at all (synchronous=OFF): an OS crash or power loss can corrupt the file. For throwaway files (tests,
   * drills), never for one that must survive. Default: WAL with synchronous=NORMAL, see devServerArgs.
   */
  fast?: boolean;
  /** Registered by the start flag, which only works on a fresh database (see ensureSearchAttributes). */
  searchAttributes?: Readonly<Record<string, string>>;
  log: (line: string) => void;
  detached?: boolean;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface DevServer {
  address: string;
  child: ChildHandle;
}

/** Starts the dev server and resolves once it answers a health check; stops it again if it never does. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port)];
  args.push(...(options.uiPort === undefined ? ['--headless'] : ['--ui-port', String(options.uiPort)]));
  if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.namespace) args.push('--namespace', options.namespace);
  if (options.dbFile) args.push(...sqlitePragmas(options.fast ? 'OFF' : 'NORMAL'));
  args.push(...dispatchSettings);
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  args.push('--log-format', 'json', '--log-level', 'warn');

  const child = spawnChild('temporal', options.cli, args, {
    env: cliEnv(),
    log: options.log,
    detached: options.detached,
    quietWhenStopping: true,
  });
  try {
    await waitUntil(`Temporal dev server at ${address}`, () => isHealthy(options.cli, address), {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      signal: options.signal,
      failFast: () => (child.running() ? undefined : 'the process ended; see the [temporal] lines above'),
    });
  } catch (error) {
    const exit = await child.stop(5_000);
    if (options.signal?.aborted) throw error;
    throw new Error(`${(error as Error).message} (${describeExit(exit)})`, { cause: error });
  }
  return { address, child };
}

/**
 * Creates the search attributes that `namespace` lacks. Needed on an existing database file, where the
 * start flag does not apply. Returns the names it created.
 */
export async function ensureSearchAttributes(
  cli: string,
  address: string,
  namespace: string,
  attributes: Readonly<Record<string, string>>,
): Promise<string[]> {
  const common = ['--address', address, '--namespace', namespace];
  const { stdout } = await run(cli, ['operator', 'search-attribute', 'list', ...common, '-o', 'json'], { env: cliEnv() });
  const existing = (JSON.parse(stdout) as { customAttributes?: Record<string, string> }).customAttributes ?? {};
  const missing = Object.entries(attributes).filter(([name]) => !(name in existing));
  for (const [name, type] of missing) {
    await run(cli, ['operator', 'search-attribute', 'create', ...common, '--name', name, '--type', type], { env: cliEnv() });
  }
  return missing.map(([name]) => name);
}

/**
 * The SQLite file in write-ahead-log mode. With synchronous=NORMAL a commit is durable once the WAL is written, not
 * synced: a crash of the server process (or kill -9) loses nothing; an OS crash or power loss may lose the last
 * commits before a checkpoint, never corrupt the file. The default (rollback journal, synchronous=FULL) syncs twice per
 * commit and left the server stalled on I/O 18 % of the time under load.
 */
function sqlitePragmas(synchronous: 'NORMAL' | 'OFF'): string[] {
  return ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', `synchronous=${synchronous}`];
}

/**
 * Dynamic config for a single-process server. The dev server has one history shard, which by default reads its
 * transfer queue at most 20 times a second: every hop of a turn (signal → workflow task → activity → workflow
 * task) waited ~50 ms for the next read. Eager activity execution lets the worker that completes a workflow task
 * start the activities it scheduled at once, without a round trip through matching.
 */
const dispatchSettings = [
  '--dynamic-config-value',
  'history.transferProcessorMaxPollRPS=1000',
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
];

async function isHealthy(cli: string, address: string): Promise<boolean> {
  const { stdout } = await run(cli, ['operator', 'cluster', 'health', '--address', address, '--command-timeout', '2s'], {
    env: cliEnv(),
  });
  return stdout.includes('SERVING');
}

/**
 * The CLI reads TEMPORAL_* variables as its own settings (address, API key, TLS): the app's variables of the
 * same names must not turn a plain local connection into a TLS one.
 */
function cliEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
}
