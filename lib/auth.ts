/**
 * Who is calling: bearer JWTs verified with `jose`. HS256 with a shared secret (AUTH_JWT_SECRET, and what
 * `npm start` generates for development), or the asymmetric keys an OpenID provider publishes (AUTH_JWKS_URL,
 * refetched when a token names a key id it has not seen: rotation needs no restart). The user is `sub`; roles come
 * from a configurable claim, a dotted path such as Keycloak's `realm_access.roles`.
 * @example const verify = createVerifier(config.auth); const { user, roles } = await verify(token);
 */
import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AppConfig } from './config';
import { UnavailableError } from './errors';

/** Each role includes the ones before it: an operator is also a user, an admin also an operator. */
export const roles = ['user', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  /** The token's `sub`. */
  user: string;
  /** The highest role the token grants (a token without the roles claim is a plain user). */
  role: Role;
}

/** Why a token was refused, worded for the `error_description` of a 401's WWW-Authenticate header. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

export type Verifier = (token: string) => Promise<Principal>;
type AuthConfig = AppConfig['auth'];

const asymmetric = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export function createVerifier(auth: AuthConfig): Verifier {
  const secret = auth.jwtSecret ? new TextEncoder().encode(auth.jwtSecret) : undefined;
  const jwks = auth.jwksUrl ? createRemoteJWKSet(new URL(auth.jwksUrl), { cooldownDuration: 5_000 }) : undefined;
  const algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? asymmetric : [])];
  const key: JWTVerifyGetKey = (header, token) => {
    if (header.alg === 'HS256' && secret) return secret;
    if (jwks) return jwks(header, token);
    throw new AuthenticationError(`tokens signed with ${header.alg} are not accepted`);
  };
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms,
        ...(auth.issuer ? { issuer: auth.issuer } : {}),
        ...(auth.audience ? { audience: auth.audience } : {}),
        clockTolerance: Math.round(auth.clockSkew / 1000),
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      const providerDown = error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError || error instanceof AuthenticationError);
      if (providerDown) throw new UnavailableError('the identity provider', { cause: error });
      throw new AuthenticationError(describeRejection(error), { cause: error });
    }
    const user = payload.sub!;
    if (user.length > 255 || /[\p{Cc}\s]/u.test(user)) throw new AuthenticationError('the token\'s "sub" is not a usable user id');
    return { user, role: highestRole(claimAt(payload, auth.rolesClaim)) };
  };
}

export interface TokenRequest {
  user: string;
  role?: Role;
  /** Lifetime in ms. */
  ttlMs: number;
  issuer?: string;
  audience?: string;
}

/** An HS256 token as the verifier above accepts it (for `npm run token` and the development token). */
export function signToken(secret: string, request: TokenRequest, rolesClaim = 'roles'): Promise<string> {
  const role = request.role ?? 'user';
  const jwt = new SignJWT(nestedClaim(rolesClaim, [role]))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.user)
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + request.ttlMs) / 1000));
  if (request.issuer) jwt.setIssuer(request.issuer);
  if (request.audience) jwt.setAudience(request.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

export function hasRole(principal: Principal, needed: Role): boolean {
  return roles.indexOf(principal.role) >= roles.indexOf(needed);
}

function highestRole(claim: unknown): Role {
  const granted = (Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/[\s,]+/) : []).filter(
    (value): value is Role => (roles as readonly unknown[]).includes(value),
  );
  return roles.findLast((role) => granted.includes(role)) ?? 'user';
}

function claimAt(payload: JWTPayload, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), payload);
}

function nestedClaim(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reverse()
    .reduce<Record<string, unknown>>((inner, key, index) => ({ [key]: index === 0 ? value : inner }), {});
}

function describeRejection(error: unknown): string {
  if (error instanceof AuthenticationError) return error.message;
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's "${error.claim}" claim is not accepted (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token\'s signing algorithm is not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token\'s signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the identity provider matches the token';
  if (error instanceof errors.JOSENotSupported) return 'the token uses a form this server does not support';
  return 'the token is malformed';
}
