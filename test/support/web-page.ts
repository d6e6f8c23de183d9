/**
 * The chat page's browser suites share these: signing a tab in the way a developer pastes a token, reading what the
 * page downloaded, and collecting what the page reports as broken (script errors, refused requests, CSP violations).
 */
import type { Download, Page } from 'playwright-core';

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

export async function readDownload(download: Download): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The page's console errors and uncaught exceptions from now on, in order. A request to another origin would be
 * refused by the CSP and show here too. Tests empty it (`splice(0)`) where they expect some.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}
