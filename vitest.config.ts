import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql ships CommonJS (main) and ESM (module); Node loads the CommonJS one for every package, so tests' own imports must too: one instance of its classes.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    // Temporal dev server + MinIO started once for all suites; Redis must be running.
    globalSetup: ['test/support/global-setup.ts'],
    // Real servers and workflows: generous limits, never assertions on wall-clock time.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Temporal workers use native code and worker threads: one process per test file isolates them.
    pool: 'forks',
  },
});
