/**
 * Fresh in-memory PGlite databases for tests, each started from a copy of a just-initialised
 * data directory. `new PGlite()` runs initdb every time: ~5 s of CPU on a 2-core CI machine,
 * during which the test worker's event loop is blocked (a PGlite created while a describe was
 * collected stalled whichever Postgres-server test was running then by ~9 s). Loading the copy
 * takes ~2 s. The copy is made once per PGlite version and kept in node_modules/.cache, so
 * every test file after the first one on a machine starts from it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

// The module's resolved path names its version (pnpm's store layout), so an upgrade makes a new copy.
const pgliteModule = import.meta.resolve('@electric-sql/pglite');
const version = /@electric-sql\+pglite@([^/]+)/.exec(pgliteModule)?.[1] ?? 'unknown';
const cacheFile = join(
  fileURLToPath(new URL('../../../../node_modules/.cache/ballast-tests/', import.meta.url)),
  `pglite-${version}-initdb.tar`,
);

async function initialisedDataDir(): Promise<Blob> {
  try {
    return new Blob([await readFile(cacheFile)]);
  } catch {
    // Not made yet on this machine: made below.
  }
  const pglite = await PGlite.create();
  const dataDir = await pglite.dumpDataDir('none');
  await pglite.close();
  // Written aside and renamed, so a file running at the same time never reads half a copy.
  await mkdir(dirname(cacheFile), { recursive: true });
  const partial = `${cacheFile}.${process.pid}.partial`;
  await writeFile(partial, new Uint8Array(await dataDir.arrayBuffer()));
  await rename(partial, cacheFile);
  return dataDir;
}

const dataDir = await initialisedDataDir();

/** An empty in-memory PGlite database, as `new PGlite()` gives, without running initdb. */
export function freshPGlite(): PGlite {
  return new PGlite({ loadDataDir: dataDir });
}
