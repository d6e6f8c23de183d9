/**
 * The chat page's browser suites share these: reading what the page downloaded, and collecting what the page reports
 * as broken (script errors, refused requests, CSP violations). Signing in: scripts/chat-page-sign-in.ts.
 */
import type { Download, Page } from 'playwright-core';

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
