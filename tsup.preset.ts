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
    sourcemap: true,
    dts: true,
    treeshake: true,
    splitting: false,
    platform: 'neutral',
  };
  return defineConfig([
    { ...shared, format: 'esm', clean: true },
    { ...shared, format: 'cjs', noExternal: inlineInCjs },
  ]);
}
