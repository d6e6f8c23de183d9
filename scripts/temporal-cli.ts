/**
 * What the launchers ask of a Temporal server through the `temporal` CLI: is it serving, does the namespace exist,
 * are the project's search attributes registered. Works against the dev server and the real server alike.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Dynamic config for this box. One history shard reads its transfer queue at most 20 times a second by default:
 * every hop of a turn (signal → workflow task → activity → workflow task) waited ~50 ms for the next read. Eager
 * activity execution lets the worker that completes a workflow task start the activities it scheduled at once,
 * without a round trip through matching.
 */
export const dispatchSettings: Readonly<Record<string, number | boolean>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
};

export async function isServing(cli: string, address: string): Promise<boolean> {
  const { stdout } = await run(cli, ['operator', 'cluster', 'health', '--address', address, '--command-timeout', '2s'], {
    env: cliEnv(),
  });
  return stdout.includes('SERVING');
}

/** Registers `namespace` unless it exists (a real server starts with none; the dev server makes `default`). */
export async function ensureNamespace(cli: string, address: string, namespace: string, retentionDays: number): Promise<boolean> {
  const common = ['--address', address, '--namespace', namespace];
  const exists = await run(cli, ['operator', 'namespace', 'describe', ...common], { env: cliEnv() }).then(
    () => true,
    () => false,
  );
  if (!exists) await run(cli, ['operator', 'namespace', 'create', ...common, '--retention', `${retentionDays}d`], { env: cliEnv() });
  return !exists;
}

/**
 * Creates the search attributes that `namespace` lacks. Needed on an existing database, where the dev server's
 * start flag does not apply, and on a real server. Returns the names it created.
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
 * The CLI reads TEMPORAL_* variables as its own settings (address, API key, TLS): the app's variables of the
 * same names must not turn a plain local connection into a TLS one.
 */
export function cliEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
}
