/**
 * What the page reads from a bearer token without verifying it (the server verifies): who it names and until when.
 * Only for display and for naming the user's own conversations (`web:<sub>:<id>`).
 */

export interface TokenClaims {
  /** The user id, as the server sees it. */
  sub: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

/** The claims of a JWT, or undefined when `token` is not one or names no user. */
export function claimsOf(token: string): TokenClaims | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (char) => char.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims !== 'object' || claims === null || !('sub' in claims) || typeof claims.sub !== 'string') return undefined;
    const exp = 'exp' in claims && typeof claims.exp === 'number' ? claims.exp : undefined;
    return { sub: claims.sub, ...(exp === undefined ? {} : { exp }) };
  } catch {
    return undefined;
  }
}

/** Whether the token has expired (a token without `exp` never does). */
export function isExpired(claims: TokenClaims, nowMs = Date.now()): boolean {
  return claims.exp !== undefined && claims.exp * 1000 <= nowMs;
}
