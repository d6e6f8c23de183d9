/**
 * A private PostgreSQL for the cluster profile: a data directory initialised once with the machine's own binaries
 * (Debian: /usr/lib/postgresql/<version>/bin, or POSTGRES_BIN_DIR), run as a child process on 127.0.0.1, TCP only,
 * trust authentication for its one user. PostgreSQL refuses to run as root: a root launcher runs it as the
 * `postgres` account, and keeps the data in /var/tmp when that account cannot reach the directory asked for.
 * @example const pg = await startPostgres({ dir: 'data/cluster/postgres', port: 5433, user: 'temporal', log });
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { spawnChild, describeExit, type ChildHandle } from './child-process';
import { waitUntil } from './wait-until';

const run = promisify(execFile);

export interface PostgresOptions {
  dir: string;
  port: number;
  /** The superuser initdb creates (trust authentication on 127.0.0.1). */
  user: string;
  log: (line: string) => void;
  detached?: boolean;
  signal?: AbortSignal;
}

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  /** Where the data lives (not `dir` when a root launcher had to move it). */
  dir: string;
  child: ChildHandle;
}

export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const account = serverAccount();
  const dir = await usableDataDir(resolve(options.dir), account, options.log);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    options.log(`[postgres] initialising a database cluster in ${dir}`);
    const args = ['-D', dir, '-U', options.user, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'];
    await run(join(bin, 'initdb'), args, { ...account });
  }
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '', // TCP only: no socket path to outgrow, no /var/run permissions
    max_connections: '200', // the Temporal services pool up to 20 connections each, per store
    log_min_messages: 'fatal', // a client's failed statement ("database already exists") is not the server's problem
  };
  const args = ['-D', dir, '-p', String(options.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = spawnChild('postgres', join(bin, 'postgres'), args, {
    log: options.log,
    detached: options.detached,
    quietWhenStopping: true,
    user: account,
  });
  const ready = () => run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(options.port), '-U', options.user]).then(() => true);
  try {
    await waitUntil(`PostgreSQL on 127.0.0.1:${options.port}`, ready, {
      timeoutMs: 60_000,
      signal: options.signal,
      failFast: () => (child.running() ? undefined : 'the process ended; see the [postgres] lines above'),
    });
  } catch (error) {
    throw new Error(`${(error as Error).message} (${describeExit(await child.stop(5_000))})`, { cause: error });
  }
  return { host: '127.0.0.1', port: options.port, user: options.user, dir, child };
}

/** POSTGRES_BIN_DIR, else the newest /usr/lib/postgresql/<version>/bin that has initdb. */
function postgresBinDir(): string {
  const explicit = process.env.POSTGRES_BIN_DIR;
  if (explicit) return explicit;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) {
    throw new Error(`no PostgreSQL binaries in ${root}: \`apt-get install postgresql\`, set POSTGRES_BIN_DIR, or set DATABASE_URL`);
  }
  return join(root, newest, 'bin');
}

/** Root cannot run PostgreSQL: the `postgres` account from /etc/passwd does. Anyone else runs it as themselves. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('running as root, PostgreSQL needs the `postgres` account: create it, or set DATABASE_URL');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * `dir` when the server's account can write it. A root launcher in a directory others cannot enter (a `mktemp -d`
 * clone) falls back to /var/tmp, which survives reboots, keyed by `dir` so each checkout keeps its own database.
 */
async function usableDataDir(dir: string, account: { uid: number; gid: number } | undefined, log: (line: string) => void) {
  const prepare = async (candidate: string) => {
    mkdirSync(dirname(candidate), { recursive: true }); // parents open to the account, the data directory not
    mkdirSync(candidate, { recursive: true, mode: 0o700 });
    if (!account) return true;
    chownSync(candidate, account.uid, account.gid);
    return run('test', ['-w', candidate], account).then(
      () => true,
      () => false,
    );
  };
  if (await prepare(dir)) return dir;
  const fallback = join('/var/tmp/ai-assistant-core', `postgres-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
  log(`[postgres] the postgres account cannot reach ${dir} (a parent directory is closed to others); using ${fallback}`);
  if (await prepare(fallback)) return fallback;
  throw new Error(`the postgres account cannot write ${dir} nor ${fallback}; set DATABASE_URL to use another PostgreSQL`);
}
