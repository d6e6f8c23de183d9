/**
 * The app processes run on jemalloc when the machine has it (Debian's libjemalloc2). With glibc's malloc a worker's
 * RSS keeps the high-water mark of the SDK core's native allocations and creeps up by fragmentation (measured: 40
 * busy conversations grew a worker from 320 to 870 MB in five minutes and still climbing; on jemalloc it stayed
 * between 410 and 540 MB). An LD_PRELOAD the caller chose is kept as it is.
 */
import { existsSync } from 'node:fs';

const candidates = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];

/** `{ LD_PRELOAD }` for jemalloc, or nothing (no jemalloc here, or the caller preloads something already). */
export function allocatorEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.LD_PRELOAD) return {};
  const jemalloc = candidates.find((path) => existsSync(path));
  return jemalloc ? { LD_PRELOAD: jemalloc } : {};
}
