/**
 * The whole system on one machine (DESIGN §7): a Temporal dev server with a SQLite file under the data
 * directory (unless TEMPORAL_ADDRESS names one to attach to), a redis-server when REDIS_URL is unset and none
 * answers on the default address, `WORKERS` worker processes that are restarted
 * when they die, and the API. Every child is its own OS process, so a worker can be killed like in production.
 * @example
 * const stack = await startStack({ env: { TEMPORAL_ADDRESS: '127.0.0.1:7233' }, port: 3300, workers: 2 });
 * await fetch(`${stack.urls.api}/healthz`);
 * await stack.stop();
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { bundleWorkflows } from '../workers/workflow-bundle';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codecAddress, loadConfig, type AppConfig } from '../lib/config';
import { searchAttributes } from '../lib/search-attributes';
import { allocatorEnv } from './allocator';
import { buildAppsCached, nodeArgs } from './build-apps';
import { spawnChild, describeExit, type ChildHandle } from './child-process';
import { developmentAuthSecretFile, developmentKeyFile, writeDevelopmentToken } from './dev-credentials';
import { findTemporalCli } from './provision';
import { redisProblem, startRedisServer } from './redis-server';
import { defaultRestartPolicy, SupervisedProcess, type RestartPolicy } from './supervised-process';
import { startBalancer, type Balancer } from './tcp-balancer';
import { ensureSearchAttributes } from './temporal-cli';
import { startDevServer } from './temporal-dev-server';
import { waitForWorkersPolling } from './worker-pollers';
import { httpOk, tcpOpen, waitUntil } from './wait-until';

export interface StackOptions {
  /** Variables laid over process.env, for the config and every child (e.g. TEMPORAL_ADDRESS, REDIS_URL). */
  env?: Record<string, string | undefined>;
  /** API port (overrides PORT). Must be a real port: the launcher finds the API by it. */
  port?: number;
  /** Worker process count (overrides WORKERS). */
  workers?: number;
  /**
   * API processes (default 1). More than one listen on `port`+101, `port`+102, … behind a round-robin balancer
   * on `port`, the way a load balancer fronts replicas in production.
   */
  apiReplicas?: number;
  /** Start the embedded dev server; default: only when TEMPORAL_ADDRESS is not set. */
  devServer?: boolean;
  /** Dev server ports, default 7233 (gRPC) and 8233 (UI). */
  temporalPort?: number;
  temporalUiPort?: number;
  /** Repository root, the children's cwd (default: this checkout). */
  root?: string;
  /** Receives the launcher's lines and the children's prefixed output lines (default stdout). */
  log?: (line: string) => void;
  restartPolicy?: RestartPolicy;
  /** SIGTERM → SIGKILL grace for each child on stop (default 15 s). */
  stopGraceMs?: number;
  /** How long to wait for the dev server and the API's /healthz (default 120 s). */
  readyTimeoutMs?: number;
  /** Aborting it during start-up stops what was started and rejects. */
  signal?: AbortSignal;
}

export interface StackUrls {
  api: string;
  /** Each replica's own address, when more than one runs behind the balancer at `api`. */
  apiReplicas?: string[];
  docs: string;
  temporalAddress: string;
  /** Only when the embedded dev server runs. */
  temporalUi?: string;
  /** Only with a bot token: where Telegram updates come in (`long polling`, or the webhook URL). */
  telegram?: string;
  /** In development with an HS256 secret: the file holding a token for user `dev`. */
  devToken?: string;
}

export interface StackHandle {
  urls: StackUrls;
  /** Pids of the worker processes alive right now (a restarting worker is missing until it is back). */
  workerPids(): number[];
  /** Pids of the API processes alive right now. */
  apiPids(): number[];
  /** Unexpected worker exits so far (each one is followed by a restart). */
  workerRestarts(): number;
  /** Stops API and workers, then the dev server. Safe to call more than once. */
  stop(): Promise<void>;
  /** Settles when the stack has stopped: undefined after stop(), the reason when it stopped on its own. */
  stopped: Promise<Error | undefined>;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function startStack(options: StackOptions = {}): Promise<StackHandle> {
  const root = options.root ?? repoRoot;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Longer than the worker's shutdownGraceTime (10 s), so a draining worker is never killed mid-drain.
  const graceMs = options.stopGraceMs ?? 15_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.port !== undefined) env.PORT = String(options.port);
  if (options.workers !== undefined) env.WORKERS = String(options.workers);
  const embedded = options.devServer ?? !env.TEMPORAL_ADDRESS;
  const temporalPort = options.temporalPort ?? 7233;
  const temporalUiPort = options.temporalUiPort ?? 8233;
  if (embedded) env.TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;

  let config = loadConfig(env, root);
  if (!config.encryption.keys) env.ENCRYPTION_KEYS_FILE = developmentKeyFile(config.stack.dataDir, log);
  if (!config.auth.jwtSecret && !config.auth.jwksUrl) {
    env.AUTH_JWT_SECRET_FILE = developmentAuthSecretFile(config.stack.dataDir);
    // Only the launcher knows this secret: the dev server's UI has no token to send the codec server (loopback only).
    env.CODEC_REQUIRE_TOKEN ??= 'false';
    config = loadConfig(env, root);
  }
  const devToken = config.mode === 'development' ? await writeDevelopmentToken(config, config.auth.jwtSecret) : undefined;
  if (config.api.port === 0) throw new Error('PORT=0 cannot be used by the launcher: it finds the API by its port');
  const replicas = options.apiReplicas ?? 1;
  const tls = Boolean(config.api.tlsCertFile);
  const apiPorts =
    replicas === 1
      ? [{ name: 'api', port: config.api.port }]
      : Array.from({ length: replicas }, (_, i) => ({ name: `api-${i + 1}`, port: config.api.port + 101 + i }));
  mkdirSync(config.stack.dataDir, { recursive: true });
  if (!config.archive.s3.bucket) mkdirSync(config.archiveDir, { recursive: true });

  const abort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  let temporal: ChildHandle | undefined;
  let redis: ChildHandle | undefined;
  let balancer: Balancer | undefined;
  const apps: SupervisedProcess[] = [];
  const workers = () => apps.filter((app) => app.name.startsWith('worker-'));
  const apis = () => apps.filter((app) => app.name.startsWith('api'));
  let stopping: Promise<void> | undefined;
  let settle: (reason: Error | undefined) => void = () => {};
  const stopped = new Promise<Error | undefined>((resolve) => (settle = resolve));
  const stop = (reason?: Error): Promise<void> => {
    stopping ??= (async () => {
      abort.abort(reason ?? new Error('stack stopped'));
      if (apps.length > 0) log('[stack] stopping API and workers…');
      await balancer?.close();
      await Promise.all(apps.map((app) => app.stop(graceMs)));
      if (temporal) {
        log('[stack] stopping the Temporal dev server…');
        await temporal.stop(graceMs);
      }
      await redis?.stop(graceMs);
      log('[stack] stopped');
      settle(reason);
    })();
    return stopping;
  };
  options.signal?.addEventListener('abort', () => void stop(), { once: true });

  const spawnApp = (name: string, script: string, own: Record<string, string> = {}) =>
    new SupervisedProcess(
      name,
      () =>
        spawnChild(name, process.execPath, [...nodeArgs, script], {
          cwd: root,
          env: { ...env, ...allocatorEnv(env), ...own },
          log,
          detached: true,
        }),
      log,
      options.restartPolicy ?? defaultRestartPolicy,
    );

  try {
    // Only a local address, and only when nobody chose one: a remote Redis that is down is an outage to report.
    const redisUrl = new URL(config.redis.url);
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(redisUrl.hostname);
    const chosen = env.REDIS_URL || config.redis.clusterNodes.length > 0;
    const redisDown = chosen || !local ? undefined : await redisProblem(config.redis.url);
    if (redisDown) {
      const dir = join(config.stack.dataDir, 'redis');
      log(`[stack] no Redis at ${config.redis.url} (${redisDown}); starting redis-server with its data in ${dir}`);
      mkdirSync(dir, { recursive: true });
      redis = (await startRedisServer({ port: Number(redisUrl.port || 6379), dir, log, detached: true })).child;
      void redis.exited.then((exit) => {
        if (!stopping) void stop(new Error(`redis-server exited unexpectedly (${describeExit(exit)})`));
      });
    }
    if (embedded) {
      const cli = await findTemporalCli({ env, log });
      const dbFile = join(config.stack.dataDir, 'temporal.db');
      log(`[stack] starting the Temporal dev server (${cli}, ${dbFile})`);
      const server = await startDevServer({
        cli,
        port: temporalPort,
        uiPort: temporalUiPort,
        uiCodecEndpoint: uiCodecEndpoint(config),
        dbFile,
        namespace: config.temporal.namespace,
        log,
        detached: true,
        readyTimeoutMs,
        signal,
      });
      temporal = server.child;
      const created = await ensureSearchAttributes(cli, server.address, config.temporal.namespace, searchAttributes);
      if (created.length > 0) log(`[stack] registered search attributes: ${created.join(', ')}`);
      void temporal.exited.then((exit) => {
        if (!stopping) void stop(new Error(`the Temporal dev server exited unexpectedly (${describeExit(exit)})`));
      });
    } else {
      log(`[stack] attaching to Temporal at ${config.temporal.address} (no dev server started)`);
    }

    signal.throwIfAborted();
    // Bundle the workflow code once for all workers (and all their restarts) instead of once per worker start.
    const bundlePath = join(config.stack.dataDir, 'workflow-bundle.js');
    const { code } = await bundleWorkflows(bundlerLogger(log), { tracing: config.tracing.endpoint !== undefined });
    writeFileSync(bundlePath, code);
    env.WORKFLOW_BUNDLE_PATH = bundlePath;
    // The processes run as plain JavaScript, built from this checkout's sources at every start.
    const built = await buildAppsCached();
    for (let index = 1; index <= config.stack.workers; index++) {
      // Each worker its own metrics port on this host: METRICS_PORT, the next one up, and so on.
      const metricsPort: Record<string, string> = config.metrics.port ? { METRICS_PORT: String(config.metrics.port + index - 1) } : {};
      apps.push(spawnApp(`worker-${index}`, built.worker, metricsPort));
    }
    // One codec server is enough (the UI knows one endpoint), and one webhook port: the first replica's.
    for (const [index, { name, port }] of apiPorts.entries()) {
      const firstOnly: Record<string, string> = index > 0 ? { CODEC_LISTEN: 'off', TELEGRAM_WEBHOOK_PORT: 'off' } : {};
      apps.push(spawnApp(name, built.api, { PORT: String(port), ...firstOnly }));
    }
    apps.forEach((app) => app.run());

    for (const api of apis()) {
      const { port } = apiPorts.find((p) => p.name === api.name)!;
      // With TLS its certificate names the public host, not 127.0.0.1: an open port is as far as the launcher checks.
      const up = tls ? () => tcpOpen(port) : () => httpOk(`http://127.0.0.1:${port}/healthz`);
      await waitUntil(`${api.name} on port ${port}`, up, {
        timeoutMs: readyTimeoutMs,
        signal,
        failFast: () => (api.lastExit ? `it exited (${describeExit(api.lastExit)}); see the [${api.name}] lines above` : undefined),
      });
    }
    if (apiPorts.length > 1) {
      balancer = await startBalancer(config.api.port, apiPorts.map((p) => p.port), config.api.host);
    }
    // Ready means a message is answered: every worker polls (it loads the workflow bundle after it started).
    await waitForWorkersPolling(config, () => pidsOf(workers()), { timeoutMs: readyTimeoutMs, signal });
  } catch (error) {
    await stop();
    throw error;
  }

  const apiUrl = `${tls ? 'https' : 'http'}://localhost:${config.api.port}`;
  return {
    urls: {
      api: apiUrl,
      ...(replicas > 1 ? { apiReplicas: apiPorts.map((p) => `${tls ? 'https' : 'http'}://localhost:${p.port}`) } : {}),
      docs: `${apiUrl}/docs`,
      temporalAddress: config.temporal.address,
      ...(embedded ? { temporalUi: `http://localhost:${temporalUiPort}` } : {}),
      ...(config.telegram.token ? { telegram: config.telegram.webhook.url ?? 'long polling' } : {}),
      ...(devToken ? { devToken } : {}),
    },
    workerPids: () => pidsOf(workers()),
    apiPids: () => pidsOf(apis()),
    workerRestarts: () => workers().reduce((sum, w) => sum + w.exits, 0),
    stop: () => stop(),
    stopped,
  };
}

/** The codec server as the Temporal UI in the browser reaches it; undefined when it is off or on an ephemeral port. */
export function uiCodecEndpoint(config: AppConfig): string | undefined {
  const codec = codecAddress(config);
  if (!codec || codec.port === 0) return undefined;
  const local = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(codec.host);
  return `http://${local ? 'localhost' : codec.host}:${codec.port}/codec`;
}

function pidsOf(apps: readonly SupervisedProcess[]): number[] {
  return apps.map((app) => app.pid()).filter((pid): pid is number => pid !== undefined);
}

/** The bundler reports progress at info; only its warnings and errors are worth a line here. */
function bundlerLogger(log: (line: string) => void) {
  const quiet = () => undefined;
  const say = (message: string) => log(`[bundle] ${message}`);
  return { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: say, error: say };
}
