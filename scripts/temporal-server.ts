/**
 * Temporal's real server (all four services in one process) on PostgreSQL, as the cluster profile runs it: the
 * databases are created and migrated with Temporal's SQL tool (its schemas are embedded), the config is written
 * under `dir`, and the namespace and the project's search attributes are registered once it serves.
 * Ports: `port` is the frontend's gRPC port; the block port … port+8 belongs to the server (see servicePorts).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { spawnChild, describeExit, type ChildHandle } from './child-process';
import { ensureNamespace, ensureSearchAttributes, dispatchSettings, isServing } from './temporal-cli';
import { waitUntil } from './wait-until';

const run = promisify(execFile);

export interface Database {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Workflow state; visibility goes to `<name>_visibility`. */
  name: string;
}

export interface TemporalServerOptions {
  /** `temporal-server`, `temporal-sql-tool` and the `temporal` CLI (see provision.ts). */
  binaries: { server: string; sqlTool: string; cli: string };
  /** Config files go here. */
  dir: string;
  database: Database;
  port: number;
  /** Fixed when the database is first set up: a later start with another number fails (Temporal's rule). */
  historyShards: number;
  namespace: string;
  searchAttributes: Readonly<Record<string, string>>;
  log: (line: string) => void;
  detached?: boolean;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface TemporalServer {
  address: string;
  child: ChildHandle;
}

export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const { database, binaries, log } = options;
  if (options.port + 8 > 32_767) {
    // The membership table stores ports in a smallint: the server would die at start with an encoding error.
    throw new Error(`Temporal's server needs ports ${options.port}…${options.port + 8} below 32768; choose a lower port`);
  }
  const stores = [
    { name: database.name, schema: 'postgresql/v12/temporal' },
    { name: `${database.name}_visibility`, schema: 'postgresql/v12/visibility' },
  ];
  for (const store of stores) await migrate(binaries.sqlTool, { ...database, name: store.name }, store.schema);

  mkdirSync(join(options.dir, 'config'), { recursive: true });
  const dynamicConfigFile = join(options.dir, 'dynamicconfig.yaml');
  writeFileSync(dynamicConfigFile, stringify(dynamicConfig()));
  writeFileSync(join(options.dir, 'config', 'cluster.yaml'), stringify(serverConfig(options, stores, dynamicConfigFile)));

  const address = `127.0.0.1:${options.port}`;
  const args = ['--root', options.dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'];
  const child = spawnChild('temporal-server', binaries.server, args, { log, detached: options.detached, quietWhenStopping: true });
  try {
    await waitUntil(`Temporal server at ${address}`, () => isServing(binaries.cli, address), {
      timeoutMs: options.readyTimeoutMs ?? 120_000,
      signal: options.signal,
      failFast: () => (child.running() ? undefined : 'the process ended; see the [temporal-server] lines above'),
    });
    if (await ensureNamespace(binaries.cli, address, options.namespace, 3)) log(`[cluster] registered namespace ${options.namespace}`);
    // A new namespace reaches the frontend's cache within seconds; until then registering attributes fails.
    let created: string[] = [];
    await waitUntil(
      `search attributes on ${options.namespace}`,
      async () => {
        created = await ensureSearchAttributes(binaries.cli, address, options.namespace, options.searchAttributes);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, signal: options.signal },
    );
    if (created.length > 0) log(`[cluster] registered search attributes: ${created.join(', ')}`);
  } catch (error) {
    const exit = await child.stop(5_000);
    if (options.signal?.aborted) throw error;
    throw new Error(`${(error as Error).message} (${describeExit(exit)})`, { cause: error });
  }
  return { address, child };
}

/** Creates the database when missing and brings its schema to the newest version: safe on every start. */
async function migrate(sqlTool: string, database: Database, schema: string): Promise<void> {
  const connection = ['--plugin', 'postgres12_pgx', '--ep', database.host, '-p', String(database.port), '-u', database.user];
  if (database.password) connection.push('--pw', database.password);
  const tool = (...args: string[]) => run(sqlTool, [...connection, ...args]);
  try {
    await tool('--db', database.name, 'create-database');
  } catch (error) {
    if (!/already exists/.test(String((error as { stderr?: string }).stderr ?? error))) throw sqlToolError(error, 'create', database);
  }
  try {
    await tool('--db', database.name, 'setup-schema', '-v', '0.0');
    await tool('--db', database.name, 'update-schema', '--schema-name', schema);
  } catch (error) {
    throw sqlToolError(error, 'migrate', database);
  }
}

function sqlToolError(error: unknown, step: string, database: Database): Error {
  const output = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-3).join(' ');
  return new Error(`could not ${step} database ${database.name} on ${database.host}:${database.port}: ${output || String(error)}`, {
    cause: error,
  });
}

/** gRPC and membership ports of the four services, from one block starting at the frontend's port. */
function servicePorts(port: number) {
  const service = (offset: number) => ({ grpcPort: port + offset, membershipPort: port + 4 + offset, bindOnIP: '127.0.0.1' });
  return {
    frontend: { rpc: { ...service(0), httpPort: port + 8 } },
    history: { rpc: service(1) },
    matching: { rpc: service(2) },
    worker: { rpc: service(3) },
  };
}

function serverConfig(options: TemporalServerOptions, stores: { name: string }[], dynamicConfigFile: string) {
  const { database } = options;
  const sql = (name: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12_pgx',
      databaseName: name,
      connectAddr: `${database.host}:${database.port}`,
      connectProtocol: 'tcp',
      user: database.user,
      password: database.password ?? '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpcAddress = `127.0.0.1:${options.port}`;
  return {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: options.historyShards,
      datastores: { default: sql(stores[0]!.name, 20), visibility: sql(stores[1]!.name, 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: servicePorts(options.port),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress, httpAddress: `127.0.0.1:${options.port + 8}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/** The dev server's dispatch settings, in the dynamic config file's shape (a list of constrained values per key). */
function dynamicConfig() {
  return Object.fromEntries(Object.entries(dispatchSettings).map(([key, value]) => [key, [{ value, constraints: {} }]]));
}
