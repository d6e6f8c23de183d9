/**
 * Bearer headers for the tests' callers, signed with the secret testEnvironment() gives each engine or stack (and
 * its AUTH_ISSUER / AUTH_AUDIENCE when a suite sets them).
 */
import { signToken, type Role } from '../../lib/auth';

export async function bearer(env: Record<string, string>, user = 'anonymous', role: Role = 'user'): Promise<Record<string, string>> {
  const secret = env.AUTH_JWT_SECRET;
  if (!secret) throw new Error('this environment has no AUTH_JWT_SECRET (use testEnvironment())');
  const token = await signToken(secret, { user, role, ttlMs: 3600_000, issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE });
  return { authorization: `Bearer ${token}` };
}
