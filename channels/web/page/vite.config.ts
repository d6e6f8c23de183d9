/**
 * Vite's configuration for the chat page. `npm run build:web` builds with it (scripts/build-web-page.ts);
 * `npx vite channels/web/page` serves the sources with hot reload and forwards the API's paths to `npm start`'s
 * API on port 3000.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { webPageOutDir, webPageRoot } from './paths.ts';

const api = 'http://127.0.0.1:3000';

export default defineConfig({
  root: webPageRoot,
  base: '/',
  publicDir: false,
  plugins: [react()],
  build: {
    outDir: webPageOutDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    // The page loads a single script (the API's CSP allows only 'self'); no inline module-preload polyfill.
    modulePreload: { polyfill: false },
    // One chunk of ~850 kB (gzip ~270 kB: React, Material UI, Markdown, Redux, Socket.IO), cached for a year.
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: { '/api': api, '/web': api, '/socket.io': { target: api, ws: true } },
  },
});
