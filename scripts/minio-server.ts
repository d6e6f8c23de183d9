/**
 * A local MinIO (S3) server, for the test setup and the chaos drill: started on 127.0.0.1 with the given
 * credentials and data directory, resolved once it reports itself live.
 */
import { spawnChild, describeExit, type ChildHandle } from './child-process';
import { httpOk, waitUntil } from './wait-until';

export interface MinioOptions {
  binary: string;
  port: number;
  dataDir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  log: (line: string) => void;
}

export async function startMinio(options: MinioOptions): Promise<{ endpoint: string; child: ChildHandle }> {
  const endpoint = `http://127.0.0.1:${options.port}`;
  const args = ['server', options.dataDir, '--address', `127.0.0.1:${options.port}`, '--quiet'];
  const child = spawnChild('minio', options.binary, args, {
    env: {
      ...process.env,
      MINIO_ROOT_USER: options.credentials.accessKeyId,
      MINIO_ROOT_PASSWORD: options.credentials.secretAccessKey,
      MINIO_BROWSER: 'off', // no console: one port less to find
    },
    log: options.log,
    quietWhenStopping: true,
  });
  try {
    await waitUntil(`MinIO at ${endpoint}`, () => httpOk(`${endpoint}/minio/health/live`), {
      timeoutMs: 60_000,
      failFast: () => (child.running() ? undefined : 'the process ended; see the [minio] lines above'),
    });
  } catch (error) {
    throw new Error(`${(error as Error).message} (${describeExit(await child.stop(5_000))})`, { cause: error });
  }
  return { endpoint, child };
}
