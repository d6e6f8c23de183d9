/**
 * A child process whose output lines are prefixed with its name and that stops politely:
 * SIGTERM, then SIGKILL after a grace period.
 * @example const api = spawnChild('api', process.execPath, ['--import', 'tsx', 'api/main.ts'], { log: console.log });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export interface ChildHandle {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** True until the process has exited. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs: number): Promise<ChildExit>;
}

export interface SpawnChildOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Receives every output line (stdout and stderr) already prefixed with `[name] `. */
  log: (line: string) => void;
  /**
   * Own process group: a Ctrl-C in the terminal then reaches only the launcher, which stops the children in
   * order (app processes before the Temporal server they talk to).
   */
  detached?: boolean;
  /** Drop output once stop() was called (for servers whose shutdown chatter helps nobody). */
  quietWhenStopping?: boolean;
  /** Run as this user (a launcher running as root starts PostgreSQL as `postgres`, which refuses root). */
  user?: { uid: number; gid: number };
}

export function spawnChild(name: string, command: string, args: string[], options: SpawnChildOptions): ChildHandle {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options.user,
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (!(stopping && options.quietWhenStopping)) options.log(`[${name}] ${line}`);
    });
  }
  let stopping = false;
  let done = false;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', (error) => {
      done = true;
      resolve({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });

  const signal = (sig: NodeJS.Signals) => {
    if (done || child.pid === undefined) return;
    try {
      // The whole group when detached: also reaches helpers the child started (tsx's esbuild service).
      process.kill(options.detached ? -child.pid : child.pid, sig);
    } catch {
      // Already gone between the check and the kill.
    }
  };

  return {
    name,
    process: child,
    exited,
    running: () => !done,
    async stop(graceMs) {
      stopping = true;
      signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          signal('SIGKILL');
          resolve();
        }, graceMs);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
      return exited;
    },
  };
}

/** "exit code 1", "signal SIGKILL", "failed to start: spawn x ENOENT". */
export function describeExit(exit: ChildExit): string {
  if (exit.error) return `failed to start: ${exit.error.message}`;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
