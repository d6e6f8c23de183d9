/**
 * The one configuration reader: config/app.yaml + the model file + environment, validated by one zod schema,
 * parsed once at start-up, frozen and passed down. Nothing else reads process.env. Both files may reference
 * `${ENV_VARS}`, and the seed's own names for some settings are accepted (config-seed.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { msToNumber, type Duration } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ConversationSettings } from '../workflows/messages';
import { applySeedNames, seedWebhookProblem } from './config-seed';
import { ConfigError } from './errors';
import { setPath } from './object-paths';
import { parseKeyRing, type KeyRing } from './key-ring';

const duration = z
  .union([z.number().nonnegative(), z.string().min(1)])
  .transform((value, ctx) => {
    try {
      return msToNumber(value as Duration);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (examples: 1500, "30s", "30m")` });
      return z.NEVER;
    }
  });
const count = z.coerce.number().int().positive();

const providerSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['openai-compatible', 'echo']),
  endpoint: z.url().optional(),
  apiKey: z.string().optional(),
  /** Unset: the one model the endpoint serves (asked at start-up, see activities/served-models.ts). */
  model: z.string().min(1).optional(),
  maxTokens: count.default(1024),
  temperature: z.coerce.number().min(0).max(2).default(0.7),
  /** Concurrent requests this process sends to the provider (protects the upstream). */
  maxConcurrency: count.default(10),
  /** Give up on one request after this long and fall back to the next provider. */
  timeout: duration.prefault('60s'),
});
export type ProviderConfig = z.infer<typeof providerSchema>;
/** A provider whose model is known: named in the config, or the one its endpoint serves. */
export type ModelProvider = ProviderConfig & { model: string };

const schema = z.strictObject({
  /** production refuses to start without ENCRYPTION_KEYS; development runs unencrypted when none is given. */
  mode: z.enum(['development', 'production']).default('development'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  temporal: z.strictObject({
    address: z.string().min(1).default('127.0.0.1:7233'),
    namespace: z.string().min(1).default('default'),
    taskQueue: z.string().min(1).default('conversations'),
    apiKey: z.string().min(1).optional(),
    tls: z
      .strictObject({
        certPath: z.string().optional(),
        keyPath: z.string().optional(),
        caPath: z.string().optional(),
        serverName: z.string().optional(),
      })
      .optional(),
  }).prefault({}),
  redis: z.strictObject({
    url: z.string().min(1).default('redis://127.0.0.1:6379'),
    keyPrefix: z.string().default('aac:'),
    /**
     * Redis Cluster: `host:port` of some of its nodes (the rest are discovered); then `url` only lends its
     * credentials. A conversation's keys share a hash tag, so its scripts and transactions stay in one slot.
     */
    clusterNodes: z.preprocess(
      (value) => (typeof value === 'string' ? value.split(',').map((node) => node.trim()).filter(Boolean) : value),
      z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'use host:port')).default([]),
    ),
  }).prefault({}),
  archive: z.strictObject({
    /** Used when no S3 bucket is configured; default `<stack.dataDir>/archive`. */
    dir: z.string().min(1).optional(),
    s3: z.strictObject({
      endpoint: z.url().optional(),
      bucket: z.string().min(3).optional(),
      region: z.string().min(1).default('us-east-1'),
      accessKeyId: z.string().optional(),
      secretAccessKey: z.string().optional(),
      prefix: z.string().default(''),
    }).prefault({}),
  }).prefault({}),
  api: z.strictObject({
    port: z.coerce.number().int().min(0).max(65535).default(3000),
    host: z.string().default('0.0.0.0'),
    /** How long POST /chat waits for the reply before answering 202. */
    chatWait: duration.prefault('25s'),
    maxBodyBytes: count.default(64 * 1024),
    maxTextChars: count.default(16_000),
    /** PEM files: set both and the API serves HTTPS, TLS 1.3 only. */
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
  }).prefault({}),
  conversation: z.strictObject({
    systemPrompt: z.string().default('You are a helpful assistant.'),
    contextTokenBudget: count.default(3000),
    summaryMaxTokens: count.default(400),
    idleTimeout: duration.prefault('30m'),
    /**
     * Short runs replay fast when a worker has to rebuild a conversation it evicted from its cache, and keep a
     * cached conversation small: the SDK core holds a run's native state until the run ends (at 40 busy
     * conversations, 100 turns per run grew a worker by ~550 MB, 25 by ~280 MB; the extra continue-as-new costs
     * ~10 % of throughput when every conversation is busy, see README *Performance*).
     */
    maxTurnsPerRun: count.default(25),
    /** The server caps a run at 10,000 signals; continue-as-new well before. */
    maxSignalsPerRun: count.max(9000).default(2000),
    dedupeWindow: count.default(1000),
    archiveEveryTurns: count.default(20),
    /**
     * While a conversation is busy, its search attributes (status, turns, last active) are written at most this
     * often; once it has been quiet this long, its archive and Redis context are brought up to date (a checkpoint).
     */
    quietPeriod: duration.prefault('1m'),
    /**
     * Quiet this long (at least the quiet period), a checkpointed conversation parks (workflows/parking.ts): its
     * idle close then waits on the parked queue, never in front of live work. Parking costs the server about what a
     * new conversation's start does: on a server without room for it, the parked queue falls behind and a message
     * to a conversation parking meanwhile waits for it (README *Performance*). Off (never) by default.
     */
    parkAfter: z.preprocess((value) => (value === 'off' ? null : value), duration.nullable().default(null)),
    /** Messages a conversation may have waiting for their reply; the edges refuse more (HTTP 429). */
    maxQueuedMessages: count.default(100),
    /** Bytes of text (UTF-8) those waiting messages may hold together. */
    maxQueuedBytes: count.default(4 * 1024 * 1024),
  }).prefault({}),
  model: z.strictObject({ providers: z.array(providerSchema).default([]) }).prefault({}),
  stack: z.strictObject({
    workers: count.default(1),
    dataDir: z.string().min(1).default('data'),
  }).prefault({}),
  encryption: z.strictObject({
    /** Key ring, newest first: `id:base64key,id2:base64key` (see lib/key-ring.ts). Give it as ENCRYPTION_KEYS(_FILE). */
    keys: z.string().min(1).optional(),
  }).prefault({}),
  limits: z.strictObject({
    /** Messages one user may send in any minute, over every API replica and Telegram; 0: no limit. */
    messagesPerMinute: z.coerce.number().int().min(0).default(30),
    /** New conversations one user may start in any hour (a conversation counts once); 0: no limit. */
    conversationsPerHour: z.coerce.number().int().min(0).default(30),
    /** Model tokens (prompt and completion, as the provider reports them) one user may spend per UTC day; 0: no limit. */
    tokensPerDay: z.coerce.number().int().min(0).default(200_000),
    /** Event streams one user may have open at once; 0: no limit. */
    streamsPerUser: z.coerce.number().int().min(0).default(5),
    /** Per API process: waiting POST /chat requests and open event streams together (each holds a Redis connection). */
    maxWaitingRequests: count.default(500),
  }).prefault({}),
  auth: z.strictObject({
    /** HS256 signing secret shared with whoever issues tokens; `npm start` generates one under the data directory. */
    jwtSecret: z.string().min(32, 'use at least 32 characters (256 bits), e.g. `openssl rand -base64 32`').optional(),
    /** An OpenID provider's JSON Web Key Set (RS256/ES256/EdDSA…); refetched when a token names an unknown key. */
    jwksUrl: z.url().optional(),
    issuer: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    /** Where the roles are in the token: a claim name or a dotted path (Keycloak: `realm_access.roles`). */
    rolesClaim: z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'a claim name or a dotted path such as realm_access.roles').default('roles'),
    /** Allowed difference between the issuer's clock and ours for `exp`, `nbf` and `iat`. */
    clockSkew: duration.prefault('30s'),
    /** The chat page's client at AUTH_ISSUER (public, code + PKCE, redirect URI `<page origin>/`); unset: no OIDC sign-in. */
    webClientId: z.string().min(1).optional(),
    /** Scopes the page asks for: its access token must be one the API accepts (AUTH_AUDIENCE). */
    webScope: z.string().min(1).default('openid profile'),
  }).prefault({}),
  codec: z.strictObject({
    /**
     * Where the codec server for the Temporal UI listens (`host:port`, or `off`); never on the API's port. Default:
     * 127.0.0.1:3001 in development, off in production.
     */
    listen: z.string().regex(/^(off|\[?[^\s\]]+\]?:\d{1,5})$/, 'use host:port (e.g. 127.0.0.1:3001), or off').optional(),
    /** Decoding needs an operator's bearer token; `npm start` turns it off with the secret it generates (the UI has none). */
    requireToken: z.union([z.boolean(), z.stringbool()]).default(true),
    /** Browser origins allowed to call it: the Temporal UI's. */
    corsOrigins: z.array(z.string().min(1)).default(['http://localhost:8233', 'http://127.0.0.1:8233']),
  }).prefault({}),
  telegram: z.strictObject({
    /** The bot's token from BotFather; unset: no Telegram channel. */
    token: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'expected a bot token as BotFather gives it (123456:ABC-…)').optional(),
    /** Another Bot API server: a self-hosted telegram-bot-api, or the test server. */
    apiRoot: z.url().default('https://api.telegram.org'),
    /** Punctuation only, so that no ordinary word can read as a command. */
    commandPrefix: z.string().regex(/^[^\sA-Za-z0-9]{1,3}$/, 'use 1-3 punctuation characters, e.g. "/" or "!"').default('/'),
    /** Bot-wide sends per second across all workers (Telegram allows about 30). */
    sendsPerSecond: z.coerce.number().positive().max(30).default(25),
    /** Gap between two sends or edits in one private chat (Telegram: about one message per second). */
    privateChatGap: duration.prefault('1s'),
    /** Gap between two sends or edits in one group (Telegram: 20 messages per minute). */
    groupChatGap: duration.prefault('3s'),
    webhook: z.strictObject({
      /** Public HTTPS URL Telegram posts updates to (ending in /telegram/webhook); unset: long polling. */
      url: z.url().optional(),
      /** Checked against X-Telegram-Bot-Api-Secret-Token; generated once and kept in Redis when unset. */
      secret: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'use 1-256 characters from A-Z, a-z, 0-9, _ and -').optional(),
      /**
       * A port of its own for the webhook (Telegram posts to 443, 80, 88 or 8443), on the API's host and with its
       * certificate; the API's port then no longer answers it. Unset or `off`: the webhook shares the API's port.
       */
      port: z.preprocess((value) => (value === 'off' ? undefined : value), z.coerce.number().int().min(1).max(65535).optional()),
    }).prefault({}),
  }).prefault({}),
  metrics: z.strictObject({
    /**
     * The worker's own port for GET /metrics (the engine's and the Temporal SDK's), /healthz and /readyz; `off`:
     * none. The API serves /metrics on its own port, to operators.
     */
    port: z.preprocess((value) => (value === 'off' ? null : value), z.coerce.number().int().min(0).max(65535).nullable().default(9464)),
    /** Where that port listens: all interfaces, so that Prometheus (in Kubernetes, by pod IP) reaches it. */
    host: z.string().min(1).default('0.0.0.0'),
  }).prefault({}),
  tracing: z.strictObject({
    /**
     * An OTLP/HTTP collector's base URL (e.g. http://otel-collector:4318): spans go to `<endpoint>/v1/traces`.
     * Unset: tracing is off, and no OpenTelemetry SDK starts.
     */
    endpoint: z.url().optional(),
    /** `service.name` of spans and log lines; default `ai-assistant-core-api` or `ai-assistant-core-worker`. */
    serviceName: z.string().min(1).optional(),
    /** Sent with every export, e.g. the collector's credentials: `key=value,key2=value2` (values URL-encoded). */
    headers: z
      .union([z.record(z.string().min(1), z.string()), z.string()])
      .transform((value, ctx) => {
        if (typeof value !== 'string') return value;
        const parsed = parseHeaders(value);
        if (parsed) return parsed;
        ctx.addIssue({ code: 'custom', message: 'use key=value pairs separated by commas, values URL-encoded' });
        return z.NEVER;
      })
      .default({}),
  }).prefault({}),
  worker: z.strictObject({
    /** A prebuilt workflow bundle (the launcher builds one per start): a worker then starts in about a second. */
    workflowBundlePath: z.string().min(1).optional(),
    /**
     * Conversations a worker keeps in memory between turns; the others replay their (short) history when a message
     * comes. Bounds the worker's memory (`npm run bench`: ~230 MB with a few conversations, ~390 MB with 10,000 live
     * and the cache full). Keep it above the number of conversations a worker serves at the same time: below that they
     * evict each other and turns stall for seconds (the default serves the seed's 200).
     */
    maxCachedWorkflows: count.default(250),
    /**
     * Idle conversations this worker closes per second at most (workers/idle-closer.ts). After downtime every
     * conversation that went idle meanwhile is due at once: closed at this pace, they leave room for live work.
     * Above the rate conversations open at (this box: ~12 a second per worker), or closes fall behind.
     */
    idleClosesPerSecond: count.default(20),
  }).prefault({}),
});

type ParsedConfig = z.infer<typeof schema>;
export type AppConfig = Readonly<
  ParsedConfig & {
    /** Absolute path of the transcript archive directory (used when no S3 bucket is configured). */
    archiveDir: string;
    /** Providers that were dropped because a `${VAR}` they reference is unset. */
    skippedProviders: { name: string; missing: string[] }[];
    /** True when no provider is usable and the built-in echo provider answers. */
    usingDevProvider: boolean;
  }
>;

/** Environment variable → config path. docker-compose.yml uses exactly these names (a test checks). */
export const environmentVariables: Readonly<Record<string, string>> = {
  APP_ENV: 'mode',
  ENCRYPTION_KEYS: 'encryption.keys',
  CODEC_LISTEN: 'codec.listen',
  CODEC_REQUIRE_TOKEN: 'codec.requireToken',
  RATE_LIMIT_MESSAGES_PER_MINUTE: 'limits.messagesPerMinute',
  RATE_LIMIT_STREAMS_PER_USER: 'limits.streamsPerUser',
  RATE_LIMIT_CONVERSATIONS_PER_HOUR: 'limits.conversationsPerHour',
  RATE_LIMIT_TOKENS_PER_DAY: 'limits.tokensPerDay',
  MAX_WAITING_REQUESTS: 'limits.maxWaitingRequests',
  AUTH_JWT_SECRET: 'auth.jwtSecret',
  AUTH_JWKS_URL: 'auth.jwksUrl',
  AUTH_ISSUER: 'auth.issuer',
  AUTH_AUDIENCE: 'auth.audience',
  AUTH_ROLES_CLAIM: 'auth.rolesClaim',
  WEB_OIDC_CLIENT_ID: 'auth.webClientId',
  WEB_OIDC_SCOPE: 'auth.webScope',
  LOG_LEVEL: 'logLevel',
  TEMPORAL_ADDRESS: 'temporal.address',
  TEMPORAL_NAMESPACE: 'temporal.namespace',
  TEMPORAL_TASK_QUEUE: 'temporal.taskQueue',
  TEMPORAL_API_KEY: 'temporal.apiKey',
  TEMPORAL_TLS_CERT_PATH: 'temporal.tls.certPath',
  TEMPORAL_TLS_KEY_PATH: 'temporal.tls.keyPath',
  TEMPORAL_TLS_CA_PATH: 'temporal.tls.caPath',
  TEMPORAL_TLS_SERVER_NAME: 'temporal.tls.serverName',
  REDIS_URL: 'redis.url',
  REDIS_KEY_PREFIX: 'redis.keyPrefix',
  REDIS_CLUSTER_NODES: 'redis.clusterNodes',
  ARCHIVE_DIR: 'archive.dir',
  S3_ENDPOINT: 'archive.s3.endpoint',
  S3_BUCKET: 'archive.s3.bucket',
  S3_REGION: 'archive.s3.region',
  S3_ACCESS_KEY_ID: 'archive.s3.accessKeyId',
  S3_SECRET_ACCESS_KEY: 'archive.s3.secretAccessKey',
  S3_PREFIX: 'archive.s3.prefix',
  PORT: 'api.port',
  TLS_CERT_FILE: 'api.tlsCertFile',
  TLS_KEY_FILE: 'api.tlsKeyFile',
  API_HOST: 'api.host',
  CHAT_WAIT_TIMEOUT: 'api.chatWait',
  CONVERSATION_IDLE_TIMEOUT: 'conversation.idleTimeout',
  CONVERSATION_QUIET_PERIOD: 'conversation.quietPeriod',
  CONVERSATION_PARK_AFTER: 'conversation.parkAfter',
  CONTEXT_TOKEN_BUDGET: 'conversation.contextTokenBudget',
  MAX_TURNS_PER_RUN: 'conversation.maxTurnsPerRun',
  MAX_SIGNALS_PER_RUN: 'conversation.maxSignalsPerRun',
  MAX_QUEUED_MESSAGES: 'conversation.maxQueuedMessages',
  MAX_QUEUED_BYTES: 'conversation.maxQueuedBytes',
  TELEGRAM_BOT_TOKEN: 'telegram.token',
  TELEGRAM_API_ROOT: 'telegram.apiRoot',
  TELEGRAM_WEBHOOK_URL: 'telegram.webhook.url',
  TELEGRAM_WEBHOOK_SECRET: 'telegram.webhook.secret',
  TELEGRAM_WEBHOOK_PORT: 'telegram.webhook.port',
  WORKERS: 'stack.workers',
  WORKFLOW_BUNDLE_PATH: 'worker.workflowBundlePath',
  MAX_CACHED_WORKFLOWS: 'worker.maxCachedWorkflows',
  IDLE_CLOSES_PER_SECOND: 'worker.idleClosesPerSecond',
  METRICS_PORT: 'metrics.port',
  METRICS_HOST: 'metrics.host',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'tracing.endpoint',
  OTEL_EXPORTER_OTLP_HEADERS: 'tracing.headers',
  OTEL_SERVICE_NAME: 'tracing.serviceName',
  DATA_DIR: 'stack.dataDir',
};
/** Variables that name files (read by loadConfig itself), not config values. */
export const fileVariables = ['APP_CONFIG', 'MODEL_CONFIG'] as const;

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the whole configuration, reporting every problem at once.
 * @example const config = loadConfig(); // throws ConfigError listing all problems
 */
export function loadConfig(env: Env = process.env, root = process.cwd()): AppConfig {
  const problems: string[] = [];
  const appFile = resolve(root, env.APP_CONFIG ?? 'config/app.yaml');
  const modelFile = resolve(root, env.MODEL_CONFIG ?? 'config/model.yaml');
  const raw = interpolateSettings(readYaml(appFile, env.APP_CONFIG !== undefined, problems), env) as Record<string, unknown>;
  const seed = applySeedNames(raw);
  problems.push(...seed.problems);
  const models = readYaml(modelFile, env.MODEL_CONFIG !== undefined, problems);

  const skippedProviders: { name: string; missing: string[] }[] = [];
  const providers = (Array.isArray(models.providers) ? models.providers : []).flatMap((provider: unknown) => {
    const missing = new Set<string>();
    const interpolated = interpolate(provider, env, missing);
    if (missing.size === 0) return [interpolated];
    skippedProviders.push({ name: String((provider as { name?: unknown }).name), missing: [...missing] });
    return [];
  });
  if (models.providers !== undefined && !Array.isArray(models.providers)) {
    problems.push(`${modelFile}: providers must be a list`);
  }
  setPath(raw, 'model.providers', providers);

  for (const [name, path] of Object.entries(environmentVariables)) {
    const value = readEnv(env, name, problems);
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }

  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => `${describePath(issue.path)}: ${issue.message}`));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const config = parsed.data;
  const s3 = config.archive.s3;
  if (s3.endpoint && !s3.bucket) throw new ConfigError(['S3_BUCKET (archive.s3.bucket) is required with S3_ENDPOINT']);
  const usingDevProvider = config.model.providers.length === 0;
  if (usingDevProvider) config.model.providers.push(devProvider);
  for (const p of config.model.providers) {
    if (p.type === 'openai-compatible' && !p.endpoint) problems.push(`model provider ${p.name}: endpoint is required`);
    if (p.type === 'echo') p.model ??= 'echo';
  }
  const webhookProblem = seedWebhookProblem(seed.webhookEnabled, config.telegram.webhook.url);
  if (webhookProblem) problems.push(webhookProblem);
  if (config.telegram.webhook.url && !config.telegram.token) {
    problems.push('TELEGRAM_WEBHOOK_URL (telegram.webhook.url) needs TELEGRAM_BOT_TOKEN (telegram.token)');
  }
  if (config.telegram.webhook.port !== undefined && !config.telegram.webhook.url) {
    problems.push('TELEGRAM_WEBHOOK_PORT (telegram.webhook.port) needs TELEGRAM_WEBHOOK_URL (telegram.webhook.url): Telegram posts to that URL');
  }
  if (Boolean(config.api.tlsCertFile) !== Boolean(config.api.tlsKeyFile)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE go together: set both for HTTPS, or neither');
  }
  for (const file of [config.api.tlsCertFile, config.api.tlsKeyFile]) {
    if (file && !existsSync(file)) problems.push(`${file} (TLS_CERT_FILE / TLS_KEY_FILE) does not exist`);
  }
  const codec = codecAddress(config);
  if (config.mode === 'production' && codec && !isPrivateHost(codec.host)) {
    problems.push(
      `CODEC_LISTEN=${config.codec.listen}: the codec server decrypts every payload; in production it listens on a loopback or ` +
        'private address only (put the Temporal UI beside it, or reach it through the operators\' proxy)',
    );
  }
  if (config.encryption.keys) {
    try {
      parseKeyRing(config.encryption.keys);
    } catch (error) {
      problems.push(`encryption.keys (ENCRYPTION_KEYS): ${(error as Error).message}`);
    }
  } else if (config.mode === 'production') {
    problems.push('ENCRYPTION_KEYS is required when APP_ENV=production: message text must never be stored in plaintext');
  }
  if (config.mode === 'production' && usingDevProvider) {
    const skipped = skippedProviders.map((p) => `${p.name} needs ${p.missing.join(', ')}`).join('; ');
    problems.push(
      `APP_ENV=production needs a real model provider, not the echoing dev provider: none in ${modelFile} is usable` +
        (skipped ? ` (${skipped})` : ''),
    );
  }
  const chainMs = config.model.providers.reduce((sum, p) => sum + p.timeout, 0);
  if (chainMs > modelChainBudgetMs) {
    problems.push(
      `model providers: their timeouts add up to ${chainMs / 1000} s, but one attempt of the fallback chain ` +
        `must fit in ${modelChainBudgetMs / 1000} s (the model activity's start-to-close timeout, less a margin)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  config.stack.dataDir = absolute(root, config.stack.dataDir);
  const archiveDir = absolute(root, config.archive.dir ?? join(config.stack.dataDir, 'archive'));
  return deepFreeze({ ...config, archiveDir, skippedProviders, usingDevProvider });
}

/** Configured secrets, for the logger to keep out of every line (createLogger's `secrets`). */
export function secretsOf(config: AppConfig): (string | undefined)[] {
  return [
    config.telegram.token, config.telegram.webhook.secret, config.auth.jwtSecret, config.archive.s3.secretAccessKey, config.temporal.apiKey,
    ...Object.values(config.tracing.headers),
  ];
}

/** What logs and spans name a process by: `OTEL_SERVICE_NAME`, else the project's name and the process's role. */
export function serviceNameOf(config: AppConfig, role: 'api' | 'worker'): string {
  return config.tracing.serviceName ?? `ai-assistant-core-${role}`;
}

/** Where the codec server listens, or undefined when it is off (see `codec.listen`). */
export function codecAddress(config: Pick<AppConfig, 'codec' | 'mode'>): { host: string; port: number } | undefined {
  const listen = config.codec.listen ?? (config.mode === 'development' ? '127.0.0.1:3001' : 'off');
  if (listen === 'off') return undefined;
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

/** Loopback, or an address of a private network (RFC 1918, RFC 4193): not reachable from the internet. */
function isPrivateHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return true;
  if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host)) return true;
  return /^f[cd][0-9a-f]{2}:/i.test(host);
}

/** The key ring that encrypts Temporal payloads, Redis values and archive objects; undefined when none is configured. */
export function keyRingOf(config: AppConfig): KeyRing | undefined {
  return config.encryption.keys ? parseKeyRing(config.encryption.keys) : undefined;
}

/** The settings a conversation workflow runs by, taken from config. */
export function conversationSettings(config: AppConfig): ConversationSettings {
  const c = config.conversation;
  return {
    systemPrompt: c.systemPrompt,
    contextTokenBudget: c.contextTokenBudget,
    summaryMaxTokens: c.summaryMaxTokens,
    idleTimeoutMs: c.idleTimeout,
    maxTurnsPerRun: c.maxTurnsPerRun,
    maxSignalsPerRun: c.maxSignalsPerRun,
    dedupeWindow: c.dedupeWindow,
    archiveEveryTurns: c.archiveEveryTurns,
    quietPeriodMs: c.quietPeriod,
    // Parking at the idle timeout is never parking (absent, a run parks at its checkpoint, as runs recorded before).
    parkAfterMs: c.parkAfter ?? c.idleTimeout,
  };
}

/** workflows/activity-options.ts gives a model call 5 minutes; the whole chain must fit, with room to spare. */
const modelChainBudgetMs = 270_000;

const devProvider: ModelProvider = {
  name: 'dev',
  type: 'echo',
  model: 'echo',
  maxTokens: 1024,
  temperature: 0,
  maxConcurrency: 100,
  timeout: 60_000,
};

function readYaml(file: string, required: boolean, problems: string[]): Record<string, unknown> {
  if (!existsSync(file)) {
    if (required) problems.push(`${file}: file not found`);
    return {};
  }
  try {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${file}: expected a mapping at the top level`);
      return {};
    }
    return camelizeKeys(parsed) as Record<string, unknown>;
  } catch (error) {
    problems.push(`${file}: ${(error as Error).message}`);
    return {};
  }
}

/** `NAME` from the environment, or the contents of the file named by `NAME_FILE` (for secrets). */
function readEnv(env: Env, name: string, problems: string[]): string | undefined {
  const file = env[`${name}_FILE`];
  if (!file) return env[name];
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    problems.push(`${name}_FILE: cannot read ${file}: ${(error as Error).message}`);
    return undefined;
  }
}

function interpolate(value: unknown, env: Env, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined || found === '') missing.add(name);
      return found ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, missing)]));
  }
  return value;
}

/**
 * The settings file's `${VAR}` references filled in from the environment; a value that references an unset
 * variable is left out (as if not written), so `token: ${TELEGRAM_BOT_TOKEN}` without the variable means no token.
 */
function interpolateSettings(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    const missing = new Set<string>();
    const filled = interpolate(value, env, missing);
    return missing.size === 0 ? filled : undefined;
  }
  if (Array.isArray(value)) return value.map((item) => interpolateSettings(item, env)).filter((item) => item !== undefined);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [k, interpolateSettings(v, env)])
        .filter(([, v]) => v !== undefined),
    );
  }
  return value;
}

/** OTEL_EXPORTER_OTLP_HEADERS as OpenTelemetry writes it: `key=value` pairs, comma-separated, values URL-encoded. */
function parseHeaders(list: string): Record<string, string> | undefined {
  const pairs = list.split(',').map((pair) => {
    const at = pair.indexOf('=');
    return at < 0 ? ['', ''] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
  });
  if (pairs.some(([key]) => !key)) return undefined;
  try {
    return Object.fromEntries(pairs.map(([key, value]) => [key, decodeURIComponent(value!)]));
  } catch {
    return undefined; // a malformed %-escape
  }
}

/** snake_case keys (as written in the YAML files) → camelCase (as in the schema). */
function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        // `key:` with nothing after it (e.g. a section whose entries are all commented out) means "use the default".
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), camelizeKeys(v)]),
    );
  }
  return value;
}

function describePath(path: PropertyKey[]): string {
  const dotted = path.map(String).join('.');
  const variable = Object.entries(environmentVariables).find(([, p]) => p === dotted)?.[0];
  return variable ? `${dotted} (${variable})` : dotted || '(root)';
}

function absolute(root: string, path: string): string {
  return isAbsolute(path) ? path : resolve(root, path);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
