import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the sources, not the builds, with the same mapping as tsconfig.json `paths`.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@ballast\/core$/, replacement: fromRoot('./packages/core/src/index.ts') },
      {
        find: /^@ballast\/core\/(adapter-kit|testing)$/,
        replacement: fromRoot('./packages/core/src/$1/index.ts'),
      },
      { find: /^@ballast\/server$/, replacement: fromRoot('./packages/server/src/index.ts') },
      {
        find: /^@ballast\/server\/(adapter-kit)$/,
        replacement: fromRoot('./packages/server/src/$1/index.ts'),
      },
      { find: /^@ballast\/client$/, replacement: fromRoot('./packages/client/src/index.ts') },
      {
        find: /^@ballast\/adapters\/(.*)$/,
        replacement: fromRoot('./packages/adapters/src/$1/index.ts'),
      },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    setupFiles: ['./vitest.setup.ts'],
    // Integration tests share one Postgres and one Redis; each file isolates itself by schema or
    // key prefix, so files may run in parallel.
    // Most integration files wait on Postgres, Redis, child processes or Chromium rather than
    // compute, so three files at a time finish far sooner than vitest's default of one worker per
    // spare core (a single worker on a 2-core CI machine).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
