/**
 * Polls until a probe answers true: the one readiness loop for the launcher and the test setup.
 * @example await waitUntil('MinIO', () => httpOk(url), { timeoutMs: 30_000 });
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Returns a reason to give up at once (e.g. "the process exited with code 1"), else undefined. */
  failFast?: () => string | undefined;
}

export async function waitUntil(what: string, probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const reason = options.failFast?.();
    if (reason) throw new Error(`${what} did not become ready: ${reason}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${options.timeoutMs / 1000} s`);
    await sleep(options.intervalMs ?? 250, undefined, { signal: options.signal });
  }
}

/** True when something accepts a TCP connection on 127.0.0.1:`port` within a second (an HTTPS server with its own certificate). */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', timeout: 1000 });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** True when `url` answers 2xx within a second. */
export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.body?.cancel();
  return response.ok;
}
