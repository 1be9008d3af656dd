// One build recipe for every package, so ESM, CJS and .d.ts come out the same way everywhere.
import { defineConfig, type Options } from 'tsup';

export interface BallastBuild {
  /** Entry points, as tsup takes them: `{ index: 'src/index.ts' }`. */
  entry: Record<string, string>;
  /**
   * ESM-only dependencies to inline into the CommonJS build, so `require('@ballast/…')`
   * works on Node versions whose `require()` cannot load ES modules.
   */
  inlineInCjs?: string[];
  /**
   * Publish the ESM build one file per source module (`dist/esm/…`) instead of one bundle per
   * entry. For the packages browsers import (core, client): an app's bundler drops a whole
   * unused module when the package says `sideEffects: false`, but inside a bundled entry it can
   * only drop statements it proves pure, so module-level schemas and tables of features the app
   * never calls stayed in its bundle (`import { retry }` from core: 10.8 kB as one bundle, the
   * sources' 6.3 kB as modules, esbuild min+gzip). Node-only packages keep the bundled build.
   */
  esmModules?: boolean;
}

const sources = ['src/**/*.ts', '!src/**/*.test.ts', '!src/**/*.test-d.ts'];

export function ballastBuild({ entry, inlineInCjs = [], esmModules = false }: BallastBuild) {
  const shared: Options = {
    entry,
    target: 'es2022',
    // Not shipped: the maps would point at `src/`, which the tarball does not contain, and they
    // were 63 % of core's installed size. The output is unminified ES2022, readable as it is.
    sourcemap: false,
    dts: true,
    treeshake: true,
    // Entries of one package share chunks, so a class or a symbol (`BallastError`,
    // `beginInSameTick`) exists once whichever subpath it is imported from. (As modules, each
    // exists once anyway: one file per source module.)
    splitting: true,
    platform: 'neutral',
  };
  const cjs: Options = { ...shared, format: 'cjs', noExternal: inlineInCjs };
  if (!esmModules) {
    return defineConfig([{ ...shared, format: 'esm', clean: true }, cjs]);
  }
  return defineConfig([
    // The declarations stay bundled per entry (`dist/<entry>.d.ts`), as before. Each config
    // cleans only its own output: tsup runs them side by side.
    { ...shared, format: 'esm', clean: ['!esm', '!esm/**'], dts: { only: true } },
    {
      ...shared,
      entry: sources,
      outDir: 'dist/esm',
      // Transpiled file by file: sources import each other as `./x.js` (verbatimModuleSyntax),
      // which is what the output files are called.
      bundle: false,
      splitting: false,
      treeshake: false,
      dts: false,
      format: 'esm',
      clean: true,
    },
    cjs,
  ]);
}
