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
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          // Unit files restore what they change (timers, spies, globals), so a worker runs them
          // one after another in one module graph: a third of the isolated run's time, most of
          // which went to importing the same modules again for each file.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // Each file in its own process: the support modules keep per-file state (the
          // processes a file spawned, which are killed when it ends).
          include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
        },
      },
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Every integration file runs in its own process and imports the sources again, through
    // vitest's transform. Kept on disk (node_modules/.experimental-vitest-cache, keyed by each
    // file's content, cleared when the lockfile changes), the transforms of one run serve the
    // next: CI's Node 24 run after its Node 20 run, a developer's reruns.
    experimental: { fsModuleCache: true },
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
