/**
 * The seed's deployment guide names some settings differently from this project: its `storage:` block (Redis as
 * host/port/db, object storage with access and secret keys) and `telegram.webhook.enabled`. A config file written
 * that way works as written: those names are mapped onto the project's own before validation. Giving the same
 * setting both ways is refused, so that no file means two things.
 */
import { z } from 'zod';
import { setPath, valueAt } from './object-paths';

const seedStorage = z.strictObject({
  redis: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.coerce.number().int().min(1).max(65535).default(6379),
      db: z.coerce.number().int().min(0).default(0),
      password: z.string().min(1).optional(),
    })
    .optional(),
  objectStorage: z
    .strictObject({
      endpoint: z.string().min(1).optional(),
      bucket: z.string().min(1),
      region: z.string().min(1).optional(),
      accessKey: z.string().min(1).optional(),
      secretKey: z.string().min(1).optional(),
    })
    .optional(),
});

type Raw = Record<string, unknown>;

/**
 * Rewrites the seed's names in `raw` (camelCased file contents) into the project's; returns what it found wrong.
 * `telegram.webhook.enabled: false` turns the file's webhook off (long polling); `true` needs a webhook URL, which
 * `seedWebhookProblem` checks once the environment has been applied.
 */
export function applySeedNames(raw: Raw): { problems: string[]; webhookEnabled: boolean | undefined } {
  const problems: string[] = [];
  if (raw.storage !== undefined) {
    const parsed = seedStorage.safeParse(raw.storage);
    delete raw.storage;
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => `${['storage', ...issue.path.map(String)].join('.')}: ${issue.message}`));
    } else {
      const { redis, objectStorage } = parsed.data;
      if (redis) setOnce(raw, 'redis.url', redisUrl(redis), 'storage.redis', problems);
      if (objectStorage) {
        const s3: [string, string | undefined][] = [
          ['endpoint', objectStorage.endpoint],
          ['bucket', objectStorage.bucket],
          ['region', objectStorage.region],
          ['accessKeyId', objectStorage.accessKey],
          ['secretAccessKey', objectStorage.secretKey],
        ];
        for (const [key, value] of s3) {
          if (value !== undefined) setOnce(raw, `archive.s3.${key}`, value, 'storage.object_storage', problems);
        }
      }
    }
  }
  const webhook = (raw.telegram as Raw | undefined)?.webhook as Raw | undefined;
  const enabled = webhook?.enabled;
  if (webhook && enabled !== undefined) {
    delete webhook.enabled;
    if (typeof enabled !== 'boolean') {
      problems.push('telegram.webhook.enabled: expected true or false');
      return { problems, webhookEnabled: undefined };
    }
    if (!enabled) {
      delete webhook.url;
      delete webhook.port;
    }
  }
  return { problems, webhookEnabled: typeof enabled === 'boolean' ? enabled : undefined };
}

/** The problem with `telegram.webhook.enabled: true` when nothing says where Telegram should post. */
export function seedWebhookProblem(webhookEnabled: boolean | undefined, webhookUrl: string | undefined): string | undefined {
  if (webhookEnabled !== true || webhookUrl) return undefined;
  return (
    'telegram.webhook.enabled is true, but Telegram needs the public HTTPS address to post updates to: set ' +
    'TELEGRAM_WEBHOOK_URL (telegram.webhook.url), e.g. https://bot.example.com:8443/telegram/webhook'
  );
}

function redisUrl(redis: { host: string; port: number; db: number; password?: string | undefined }): string {
  const credentials = redis.password ? `:${encodeURIComponent(redis.password)}@` : '';
  const host = redis.host.includes(':') ? `[${redis.host}]` : redis.host;
  return `redis://${credentials}${host}:${redis.port}/${redis.db}`;
}

function setOnce(raw: Raw, path: string, value: string, seedName: string, problems: string[]): void {
  if (valueAt(raw, path) === undefined) setPath(raw, path, value);
  else problems.push(`${seedName} and ${path} both set ${path.slice(path.lastIndexOf('.') + 1)}: keep one of them`);
}
