/**
 * The Temporal dev server (`temporal server start-dev`) as the launcher and the test setup run it.
 */
import { spawnChild, describeExit, type ChildHandle } from './child-process';
import { cliEnv, dispatchSettings, isServing } from './temporal-cli';
import { waitUntil } from './wait-until';

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
  for (const [name, value] of Object.entries(dispatchSettings)) args.push('--dynamic-config-value', `${name}=${value}`);
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
    await waitUntil(`Temporal dev server at ${address}`, () => isServing(options.cli, address), {
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
 * The SQLite file in write-ahead-log mode. With synchronous=NORMAL a commit is durable once the WAL is written, not
 * synced: a crash of the server process (or kill -9) loses nothing; an OS crash or power loss may lose the last
 * commits before a checkpoint, never corrupt the file. The default (rollback journal, synchronous=FULL) syncs twice per
 * commit and left the server stalled on I/O 18 % of the time under load.
 */
function sqlitePragmas(synchronous: 'NORMAL' | 'OFF'): string[] {
  return ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', `synchronous=${synchronous}`];
}
