/**
 * The worker's own port (`METRICS_PORT`): GET /metrics, /healthz and /readyz. /metrics serves the engine's metrics
 * and, after them, the Temporal SDK core's (task latencies, pollers, workflow task failures, and the workflow's own
 * counters), which the core's exporter serves on a loopback port of its own: one scrape, one registry per number.
 */
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { listen } from '../api/listen';
import { withTimeout } from '../lib/with-timeout';

export interface MetricsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** The SDK core's Prometheus exporter (`http://127.0.0.1:<port>/metrics`), when the runtime has one. */
  coreMetricsUrl?: string | undefined;
  /** True while every Temporal worker of the process is running (polling its task queue). */
  ready: () => boolean;
}

export interface MetricsServer {
  /** The port actually bound (port 0 picks a free one). */
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const app = new Hono()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', (c) => (options.ready() ? c.json({ status: 'ready' }) : c.json({ status: 'not ready' }, 503)))
    .get('/metrics', async (c) => {
      const [own, core] = await Promise.all([options.registry.metrics(), coreMetrics(options.coreMetricsUrl)]);
      return c.body(`${own}\n${core}`, 200, { 'content-type': options.registry.contentType });
    });
  const { port, close } = await listen(app.fetch, options.host, options.port);
  return { port, close: () => close() };
}

/** The core's exposition, or a comment saying why it is missing (the engine's own metrics are still served). */
async function coreMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const response = await withTimeout(fetch(url), 2000, 'the SDK core metrics');
    return response.ok ? await response.text() : `# the SDK core's metrics answered ${response.status}\n`;
  } catch (error) {
    return `# the SDK core's metrics are unavailable: ${(error as Error).message}\n`;
  }
}
