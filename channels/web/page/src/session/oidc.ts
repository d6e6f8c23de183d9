/**
 * OpenID Connect sign-in (authorization code + PKCE, oidc-client-ts) against the provider the server names in
 * /web/config.json. The library loads only when a provider is configured. Its user record lives in sessionStorage,
 * like the page's session; the access token is the bearer token, renewed with the refresh token when the provider
 * gives one (without one, the user signs in again when the token expires).
 */
import type { User, UserManager } from 'oidc-client-ts';
import type { WebConfig } from '../api/types';

export type OidcSettings = NonNullable<WebConfig['oidc']>;

const managers = new Map<string, Promise<UserManager>>();

/** The provider's client (one per provider and client id). */
function userManager(settings: OidcSettings): Promise<UserManager> {
  const key = `${settings.authority} ${settings.clientId}`;
  let manager = managers.get(key);
  if (!manager) {
    manager = import('oidc-client-ts').then(
      ({ UserManager, WebStorageStateStore }) =>
        new UserManager({
          authority: settings.authority,
          client_id: settings.clientId,
          scope: settings.scope,
          redirect_uri: `${window.location.origin}/`,
          userStore: new WebStorageStateStore({ store: window.sessionStorage }),
          // Renewal by hidden iframe would need the provider framed in this page; refresh tokens need nothing.
          automaticSilentRenew: false,
        }),
    );
    managers.set(key, manager);
  }
  return manager;
}

/** Leaves for the provider's sign-in page; the open conversation (the URL's hash) comes back with the user. */
export async function startSignIn(settings: OidcSettings): Promise<void> {
  await (await userManager(settings)).signinRedirect({ url_state: window.location.hash });
}

/** Whether this page load is the provider sending the user back (`?code=…&state=…`, or `?error=…&state=…`). */
export function isSignInCallback(): boolean {
  const query = new URLSearchParams(window.location.search);
  return query.has('state') && (query.has('code') || query.has('error'));
}

let completion: Promise<User> | undefined;

/**
 * Completes the sign-in this page load returns from (once, however often it is asked: the provider's answer can be
 * redeemed only once); the URL is cleaned of its parameters either way.
 */
export function completeSignIn(settings: OidcSettings): Promise<User> {
  completion ??= userManager(settings)
    .then((manager) => manager.signinRedirectCallback())
    .finally(() => window.history.replaceState(null, '', window.location.pathname));
  return completion;
}

/** The hash the user left from, restored after a sign-in. */
export function returnTo(user: User): void {
  if (user.url_state?.startsWith('#')) window.location.hash = user.url_state;
}

/**
 * Calls `onToken` with each renewed access token; renews with the refresh token shortly before expiry. Returns the
 * function that stops it.
 */
export function keepRenewed(settings: OidcSettings, onToken: (token: string) => void, onFailure: (reason: string) => void): () => void {
  let stopped = false;
  const removers: Array<() => void> = [];
  void userManager(settings).then((manager) => {
    if (stopped) return;
    removers.push(
      manager.events.addUserLoaded((user) => onToken(user.access_token)),
      manager.events.addAccessTokenExpiring(async () => {
        const user = await manager.getUser();
        if (!user?.refresh_token) return;
        await manager.signinSilent().catch((error: unknown) => onFailure(error instanceof Error ? error.message : String(error)));
      }),
    );
    // Arms the expiry timers for a user stored before this page load.
    return manager.getUser();
  });
  return () => {
    stopped = true;
    removers.forEach((remove) => remove());
  };
}

/** Forgets the provider's user record in this tab (signing out of the page, not of the provider). */
export async function forgetUser(settings: OidcSettings): Promise<void> {
  await (await userManager(settings)).removeUser();
}
