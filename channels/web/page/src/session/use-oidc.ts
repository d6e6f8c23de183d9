/** The React side of OpenID Connect sign-in: finishing a sign-in the provider returns from, and token renewal. */
import { useEffect, useState } from 'react';
import { useAppDispatch } from '../app/hooks';
import { completeSignIn, isSignInCallback, keepRenewed, returnTo, type OidcSettings } from './oidc';
import { signedIn, signedOut, type Session } from './session-slice';
import { claimsOf } from './token-claims';

/** A session for the provider's user: the API knows them by the access token's subject. */
function oidcSession(accessToken: string, profileSubject: string): Session {
  return { token: accessToken, user: claimsOf(accessToken)?.sub ?? profileSubject, via: 'oidc' };
}

/** True while this page load is completing a sign-in (`settings` may still be loading then). */
export function useSignInCallback(settings: OidcSettings | undefined): boolean {
  const dispatch = useAppDispatch();
  const [completing, setCompleting] = useState(isSignInCallback);
  useEffect(() => {
    if (!settings || !completing) return;
    completeSignIn(settings)
      .then(
        (user) => {
          dispatch(signedIn(oidcSession(user.access_token, user.profile.sub)));
          returnTo(user);
        },
        (error: unknown) => dispatch(signedOut({ notice: `Sign-in failed: ${error instanceof Error ? error.message : String(error)}` })),
      )
      .finally(() => setCompleting(false));
  }, [settings, completing, dispatch]);
  return completing;
}

/** While signed in through the provider, renewed tokens replace the session's. */
export function useTokenRenewal(settings: OidcSettings | undefined, session: Session): void {
  const dispatch = useAppDispatch();
  const active = settings !== undefined && session.via === 'oidc';
  useEffect(() => {
    if (!active) return undefined;
    return keepRenewed(
      settings,
      (token) => dispatch(signedIn(oidcSession(token, session.user))),
      (reason) => dispatch(signedOut({ notice: `Your session could not be renewed (${reason}): sign in again.` })),
    );
  }, [active, settings, session.user, dispatch]);
}
