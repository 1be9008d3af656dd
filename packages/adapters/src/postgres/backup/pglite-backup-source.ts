/**
 * Backups of an embedded PGlite database, where there is no `pg_dump`: PGlite's own data-directory
 * dump (`dumpDataDir`, a gzipped tarball of PGDATA). PGlite builds the tarball in memory, so
 * this suits the small databases PGlite is used for (demos, tests, local-first apps), not the
 * gigabyte class `pg_dump` streams. A restore check opens the tarball as a fresh PGlite
 * (`loadDataDir`) and runs the sanity query there.
 */

import type { BackupSource, RestoreCheckResult } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';
import { isObject } from '../../options/is-object.js';

/** The part of a PGlite instance a backup uses. */
export interface PGliteLike {
  dumpDataDir(compression?: 'none' | 'gzip' | 'auto'): Promise<Blob>;
  query<R>(sql: string): Promise<{ rows: R[] }>;
  close(): Promise<void>;
}

/** Options for {@link pgliteBackupSource}. */
export interface PGliteBackupSourceOptions {
  /** The database to back up. */
  readonly pglite: PGliteLike;
  /**
   * Opens a data-dir tarball as a new database, for restore checks and restores:
   * `(dataDir) => PGlite.create({ loadDataDir: dataDir })`. Without it, restore checks are not
   * offered.
   */
  readonly open?: (dataDir: Blob) => Promise<PGliteLike>;
  /** Sanity query for restore checks (first column must be true). Default: a user table exists. */
  readonly sanityQuery?: string;
}

const defaultSanityQuery =
  "SELECT count(*) > 0 AS ok FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";

/** Reads a stream into a Blob (PGlite loads data dirs from Blobs). */
export async function streamToBlob(body: ReadableStream<Uint8Array>): Promise<Blob> {
  return new Response(body).blob();
}

/** A `BackupSource` over PGlite's `dumpDataDir('gzip')`; files end in `.tar.gz`. */
export function pgliteBackupSource(options: PGliteBackupSourceOptions): BackupSource {
  if (!isObject(options)) {
    throw invalidArgument('pgliteBackupSource()', '(options)', 'an options object');
  }
  const open = options.open;
  return {
    extension: '.tar.gz',
    async dump() {
      const tarball = await options.pglite.dumpDataDir('gzip');
      return tarball.stream() as ReadableStream<Uint8Array>;
    },
    ...(open && {
      async checkRestore(body: ReadableStream<Uint8Array>): Promise<RestoreCheckResult> {
        let scratch: PGliteLike;
        try {
          scratch = await open(await streamToBlob(body));
        } catch (error) {
          return { ok: false, detail: `could not open the data dir: ${(error as Error).message}` };
        }
        try {
          const { rows } = await scratch.query<Record<string, unknown>>(
            options.sanityQuery ?? defaultSanityQuery,
          );
          const value = rows[0] === undefined ? undefined : Object.values(rows[0])[0];
          const ok = value === true || (typeof value === 'number' && value !== 0);
          return { ok, detail: `sanity query returned ${JSON.stringify(value ?? null)}` };
        } catch (error) {
          return { ok: false, detail: `sanity query failed: ${(error as Error).message}` };
        } finally {
          await scratch.close();
        }
      },
    }),
  };
}
