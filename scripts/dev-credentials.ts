/**
 * Development conveniences of the launcher, so that `npm start` needs nothing configured and still never runs open
 * or stores plaintext: a key ring file for encryption at rest, and an HS256 signing secret with a ready token for
 * user `dev`. All live in the data directory; production sets its own (APP_ENV=production refuses to start without).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signToken } from '../lib/auth';
import type { AppConfig } from '../lib/config';
import { generateKeySpec } from '../lib/key-ring';

/**
 * For tools that start their own stack and drive it as one user (the drill, the bench): AUTH_* of the caller's
 * environment blanked, so the stack signs with a development secret and writes the token they read back with
 * developmentAuthorization(); that one user's limits raised far above any load they make (the checks still run).
 */
export const driverEnv: Readonly<Record<string, string>> = {
  AUTH_JWT_SECRET: '',
  AUTH_JWT_SECRET_FILE: '',
  AUTH_JWKS_URL: '',
  AUTH_ISSUER: '',
  AUTH_AUDIENCE: '',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '1000000',
  RATE_LIMIT_CONVERSATIONS_PER_HOUR: '1000000',
  RATE_LIMIT_TOKENS_PER_DAY: '1000000000000',
  RATE_LIMIT_STREAMS_PER_USER: '100000',
  MAX_WAITING_REQUESTS: '100000',
  CODEC_LISTEN: 'off',
};

/** `Bearer <development token>` of a stack started with driverEnv. */
export function developmentAuthorization(stack: { urls: { devToken?: string } }): string {
  if (!stack.urls.devToken) throw new Error('the stack wrote no development token (is an identity provider configured?)');
  return `Bearer ${readFileSync(stack.urls.devToken, 'utf8').trim()}`;
}

/** Who the development token signs in (its conversations are `api:dev:<id>`). */
export const developmentUser = 'dev';

/** The development token's lifetime: written again at every start. */
const devTokenTtlMs = 30 * 24 * 3600_000;

/** The key ring file the children use when no ENCRYPTION_KEYS are given. Losing it loses what it encrypted. */
export function developmentKeyFile(dataDir: string, log: (line: string) => void): string {
  const file = join(dataDir, 'encryption-keys');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${generateKeySpec()}\n`, { mode: 0o600 });
    log(`[stack] generated a development encryption key in ${file} (keep it: stored conversations need it)`);
  }
  return file;
}

/** `<data>/auth-secret`, made on first use: what the API checks tokens with when no AUTH_* is configured. */
export function developmentAuthSecretFile(dataDir: string): string {
  const file = join(dataDir, 'auth-secret');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  }
  return file;
}

/**
 * Writes `<data>/dev-token`: a token for user `dev` (role user) signed with the configured or development secret.
 * Returns its path, or undefined when only an identity provider's keys are configured (its tokens come from it).
 */
export async function writeDevelopmentToken(config: AppConfig, secret: string | undefined): Promise<string | undefined> {
  if (!secret) return undefined;
  const token = await signToken(
    secret,
    { user: developmentUser, role: 'user', ttlMs: devTokenTtlMs, issuer: config.auth.issuer, audience: config.auth.audience },
    config.auth.rolesClaim,
  );
  const file = join(config.stack.dataDir, 'dev-token');
  mkdirSync(config.stack.dataDir, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return file;
}
