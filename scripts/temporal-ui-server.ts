/**
 * Temporal's web UI (ui-server, the same UI the dev server embeds) in front of a real Temporal server, decoding
 * payloads with the API's codec endpoint like the dev server's UI does.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnChild, describeExit, type ChildHandle } from './child-process';
import { httpOk, waitUntil } from './wait-until';

export interface UiServerOptions {
  binary: string;
  /** Its config file goes here. */
  dir: string;
  port: number;
  temporalAddress: string;
  namespace: string;
  codecEndpoint?: string;
  log: (line: string) => void;
  detached?: boolean;
  signal?: AbortSignal;
}

export async function startUiServer(options: UiServerOptions): Promise<{ url: string; child: ChildHandle }> {
  mkdirSync(join(options.dir, 'config'), { recursive: true });
  const config = {
    temporalGrpcAddress: options.temporalAddress,
    host: '127.0.0.1',
    port: options.port,
    enableUi: true,
    hideLogs: true, // no access log per request
    defaultNamespace: options.namespace,
    notifyOnNewVersion: false, // no internet to ask
    cors: { allowOrigins: [`http://localhost:${options.port}`, `http://127.0.0.1:${options.port}`] },
    codec: options.codecEndpoint ? { endpoint: options.codecEndpoint } : {},
  };
  writeFileSync(join(options.dir, 'config', 'cluster.yaml'), stringify(config));

  const url = `http://localhost:${options.port}`;
  const args = ['--root', options.dir, '--config', 'config', '--env', 'cluster', 'start'];
  const child = spawnChild('temporal-ui', options.binary, args, { log: options.log, detached: options.detached, quietWhenStopping: true });
  try {
    await waitUntil(`Temporal UI at ${url}`, () => httpOk(`http://127.0.0.1:${options.port}/`), {
      timeoutMs: 60_000,
      signal: options.signal,
      failFast: () => (child.running() ? undefined : 'the process ended; see the [temporal-ui] lines above'),
    });
  } catch (error) {
    throw new Error(`${(error as Error).message} (${describeExit(await child.stop(5_000))})`, { cause: error });
  }
  return { url, child };
}
