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
}

export function ballastBuild({ entry, inlineInCjs = [] }: BallastBuild) {
  const shared: Options = {
    entry,
    target: 'es2022',
    // Not shipped: the maps would point at `src/`, which the tarball does not contain, and they
    // were 63 % of core's installed size. The output is unminified ES2022, readable as it is.
    sourcemap: false,
    dts: true,
    treeshake: true,
    // Entries of one package share chunks, so a class or a symbol (`BallastError`,
    // `beginInSameTick`) exists once whichever subpath it is imported from.
    splitting: true,
    platform: 'neutral',
  };
  return defineConfig([
    { ...shared, format: 'esm', clean: true },
    { ...shared, format: 'cjs', noExternal: inlineInCjs },
  ]);
}
