/**
 * Runs a composition root when its file is the process entry point, and stops it on SIGINT/SIGTERM.
 * Start-up failures (bad config, unreachable Temporal) print one clear line and exit non-zero. An app process keeps
 * its heaps compact (heap-growth.ts); engines started inside another process (the tests') leave its heap alone.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { limitHeapGrowth } from './heap-growth';

export async function runAsMain(moduleUrl: string, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  const entry = process.argv[1];
  // Node runs the entry from its real path: started through a symlink, the URLs differ only by the link.
  if (!entry || pathToFileURL(realPath(entry)).href !== moduleUrl) return;
  limitHeapGrowth();
  let handle: { stop(): Promise<void> };
  try {
    handle = await start();
  } catch (error) {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  }
  let stopping = false;
  const stop = async () => {
    // A second signal while stopping means "now": do not wait for a shutdown that hangs.
    if (stopping) process.exit(1);
    stopping = true;
    try {
      await handle.stop();
      process.exit(0);
    } catch (error) {
      console.error(error instanceof Error ? `stop failed: ${error.message}` : error);
      process.exit(1);
    }
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
