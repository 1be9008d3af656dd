/**
 * Bundle weight: what an import costs a browser app, bundled with esbuild (minified, tree-shaken,
 * ESM, browser platform) and gzipped, as size-limit's esbuild preset measures it. An entry over
 * its limit fails the run (`pnpm bench bundle` exits 1), and `.ci/run` runs it, so a dependency
 * or a schema that drags weight onto the browser path is caught before release.
 *
 * Each entry is one line: what a user writes, and its limit. Imports resolve to the packages'
 * sources (`src/index.ts`), which is what tsup bundles into `dist`; a package that does not exist
 * yet is reported as skipped, so `@ballast/client` is measured as soon as it lands.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import type { BenchFigures } from './bench-result.js';

interface BundleEntry {
  /** What the user writes; the figure's name. */
  readonly name: string;
  /** The module body that is bundled. */
  readonly code: string;
  /** Most bytes allowed, min+gzip; none to record only. */
  readonly limitBytes?: number;
}

const policies = 'retry, withTimeout, createCircuitBreaker, createBulkhead, compose, createTimeout';

const entries: readonly BundleEntry[] = [
  {
    name: "import { retry } from '@ballast/core'",
    code: "export { retry } from '@ballast/core';",
    limitBytes: 5_000,
  },
  {
    name: `import { ${policies} } from '@ballast/core'`,
    code: `export { ${policies} } from '@ballast/core';`,
    limitBytes: 10_000,
  },
  { name: "import * from '@ballast/core'", code: "export * from '@ballast/core';" },
  {
    name: "import * from '@ballast/client'",
    code: "export * from '@ballast/client';",
    limitBytes: 8_000,
  },
  { name: "import pRetry from 'p-retry' (peer)", code: "export { default } from 'p-retry';" },
  {
    name: "import { retry, handleAll } from 'cockatiel' (peer)",
    code: "export { retry, handleAll, ExponentialBackoff } from 'cockatiel';",
  },
];

const root = fileURLToPath(new URL('..', import.meta.url));

/** `@ballast/<name>` → `packages/<name>/src/index.ts`, keeping the package's `sideEffects`. */
const workspaceSources: Plugin = {
  name: 'ballast-sources',
  setup(builder) {
    builder.onResolve({ filter: /^@ballast\/[a-z-]+$/ }, (args) => {
      const source = join(root, 'packages', args.path.slice('@ballast/'.length), 'src/index.ts');
      if (!existsSync(source)) return { errors: [{ text: `${args.path} does not exist yet` }] };
      return { path: source, sideEffects: false };
    });
  },
};

interface Measured {
  readonly name: string;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
  readonly limitBytes?: number;
  readonly withinLimit: boolean;
}

async function measure(entry: BundleEntry): Promise<Measured | undefined> {
  let output: Uint8Array;
  try {
    const result = await build({
      stdin: { contents: entry.code, resolveDir: root, loader: 'ts' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      plugins: [workspaceSources],
    });
    output = result.outputFiles[0]?.contents ?? new Uint8Array();
  } catch (error) {
    if (String(error).includes('does not exist yet')) return undefined;
    throw error;
  }
  const gzipBytes = gzipSync(output, { level: 9 }).length;
  return {
    name: entry.name,
    minifiedBytes: output.length,
    gzipBytes,
    ...(entry.limitBytes === undefined ? {} : { limitBytes: entry.limitBytes }),
    withinLimit: entry.limitBytes === undefined || gzipBytes <= entry.limitBytes,
  };
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

export default async function bundleBench(): Promise<BenchFigures> {
  const measured: Measured[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    const result = await measure(entry);
    if (result === undefined) skipped.push(entry.name);
    else measured.push(result);
  }
  for (const { name, minifiedBytes, gzipBytes, limitBytes } of measured) {
    const limit = limitBytes === undefined ? '' : ` (limit ${kB(limitBytes)})`;
    console.log(`  ${name}: ${kB(minifiedBytes)} min, ${kB(gzipBytes)} min+gzip${limit}`);
  }
  for (const name of skipped) console.log(`  ${name}: skipped (package not built yet)`);

  const gzipOf = (name: string) => measured.find((m) => m.name.startsWith(name))?.gzipBytes ?? 0;
  const retryBytes = gzipOf("import { retry } from '@ballast/core'");
  const pRetryBytes = gzipOf("import pRetry from 'p-retry'");
  const over = measured.filter((m) => !m.withinLimit);
  if (over.length > 0) {
    throw new Error(
      `over the size limit: ${over.map((m) => `${m.name} is ${kB(m.gzipBytes)} > ${kB(m.limitBytes ?? 0)}`).join('; ')}`,
    );
  }
  return {
    name: 'bundle',
    unit: 'bytes min+gzip of `import { retry }` (lower is better)',
    ballast: retryBytes,
    peer: pRetryBytes,
    peerName: 'p-retry',
    ratio: Number((retryBytes / pRetryBytes).toFixed(2)),
    peers: { cockatiel: gzipOf("import { retry, handleAll } from 'cockatiel'") },
    extra: { entries: measured, skipped },
    summary: `retry ${kB(retryBytes)} min+gzip (p-retry alone ${kB(pRetryBytes)}); policies ${kB(gzipOf(`import { ${policies} }`))}; every entry within its limit`,
  };
}
