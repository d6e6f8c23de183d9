// Lint rules that keep two promises no reviewer should have to remember:
// workflow code stays deterministic, and no promise is left floating.
import tseslint from 'typescript-eslint';

const nonDeterministicModules = [
  'node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'timers', 'timers/*',
  'ioredis', '@aws-sdk/*', 'openai', 'grammy', 'hono', 'hono/*', '@hono/*', 'pino', 'p-limit', 'yaml',
  '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', 'channels/web/page/dist/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nonDeterministicModules, message: 'workflows/ must stay deterministic: use activities for I/O.' },
          {
            group: ['**/activities', '**/activities/*', '**/lib/*', '**/api/*', '**/workers/*', '**/channels/**',
              // Not our lib/: the OpenTelemetry interceptors' parts made for workflow code.
              '!@temporalio/interceptors-opentelemetry/lib/instrumentation', '!@temporalio/interceptors-opentelemetry/lib/workflow'],
            allowTypeImports: true,
            message: 'workflows/ may import only types from other layers (import type).',
          },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop.' },
        { name: 'fetch', message: 'Workflows do no I/O: call an activity.' },
        { name: 'process', message: 'Workflows read no environment: pass settings in the input.' }],
    },
  },
);
