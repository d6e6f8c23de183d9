/**
 * Where the chat page's sources are and where its build goes: shared by the Vite config, the build script
 * (scripts/build-web-page.ts) and the API route that serves it (api/routes/web-page.ts).
 */
import { fileURLToPath } from 'node:url';

/** This folder: Vite's root (index.html and src/ live here). */
export const webPageRoot = fileURLToPath(new URL('.', import.meta.url));

/** The build output (gitignored): index.html and hashed files under assets/. */
export const webPageOutDir = fileURLToPath(new URL('./dist/', import.meta.url));

/** What the build reads: a change to any of these makes the output stale. */
export const webPageSources = ['index.html', 'src', 'tsconfig.app.json', 'vite.config.ts', 'paths.ts'].map((name) =>
  fileURLToPath(new URL(name, import.meta.url)),
);
