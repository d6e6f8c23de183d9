/** Signing a browser tab in to the chat page the way a developer pastes a token (the browser tests and `npm run bench:web`). */
import type { Page } from 'playwright-core';

/** Signs `tab`, showing the sign-in page, in with the token of `headers` (`{ authorization: 'Bearer …' }`). */
export async function signIn(tab: Page, headers: Record<string, string>): Promise<void> {
  await tab.getByLabel('Access token').fill(tokenOf(headers));
  await tab.getByRole('button', { name: 'Sign in with this token' }).click();
}

/** The bare token of bearer `headers`, as a person would paste it. */
export function tokenOf(headers: Record<string, string>): string {
  const token = headers.authorization?.replace(/^Bearer /, '');
  if (!token) throw new Error('these headers carry no bearer token');
  return token;
}
