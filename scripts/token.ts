/**
 * `npm run token -- --user alice [--role operator] [--ttl 1h]`: prints a bearer token signed with the configured
 * AUTH_JWT_SECRET, or with the development secret `npm start` made under the data directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { msToNumber, type Duration } from '@temporalio/common';
import { roles, signToken, type Role } from '../lib/auth';
import { loadConfig } from '../lib/config';

const usage = `npm run token -- --user <id> [--role ${roles.join('|')}] [--ttl 1h]`;

function fail(message: string): never {
  console.error(`${message}\n\nusage: ${usage}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: { user: { type: 'string' }, role: { type: 'string', default: 'user' }, ttl: { type: 'string', default: '1h' } },
});
if (!values.user) fail('--user is required');
if (!(roles as readonly string[]).includes(values.role)) fail(`--role must be one of ${roles.join(', ')}`);
let ttlMs: number;
try {
  ttlMs = msToNumber(values.ttl as Duration);
} catch {
  fail(`--ttl "${values.ttl}" is not a duration (examples: 30m, 1h, 7d)`);
}

const env = { ...process.env };
let config = loadConfig(env);
if (!config.auth.jwtSecret) {
  const devSecret = join(config.stack.dataDir, 'auth-secret');
  if (config.auth.jwksUrl || !existsSync(devSecret)) {
    fail('No signing secret: set AUTH_JWT_SECRET (tokens for AUTH_JWKS_URL come from your identity provider), or run npm start once.');
  }
  config = loadConfig({ ...env, AUTH_JWT_SECRET_FILE: devSecret });
}
const { auth } = config;
const token = await signToken(
  config.auth.jwtSecret!,
  { user: values.user, role: values.role as Role, ttlMs, issuer: auth.issuer, audience: auth.audience },
  auth.rolesClaim,
);
console.log(token);
