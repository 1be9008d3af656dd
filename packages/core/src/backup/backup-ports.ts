/**
 * The two things a backup runner needs besides its records: something that produces a dump
 * (`pg_dump`, PGlite's data-dir dump) and a place to keep the files. Both speak web streams,
 * so a dump flows from the database to disk (and to off-site storage) without ever being held
 * whole in memory, and the runner itself stays free of Node built-ins.
 */

/** What a restore check found. */
export interface RestoreCheckResult {
  /** True when the dump restored and the sanity check passed. */
  readonly ok: boolean;
  /** Operator-facing detail: the sanity query's result, or why the restore failed. */
  readonly detail: string;
}

/** Produces dumps of one database. */
export interface BackupSource {
  /** File extension of its dumps, with the dot (`'.dump'` for `pg_dump -Fc`). */
  readonly extension: string;
  /**
   * Starts a dump. The stream errors (never ends quietly) when the dump fails, e.g. `pg_dump`
   * exiting non-zero, so a truncated dump can never be recorded as good.
   */
  dump(signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /**
   * Restores `body` into a scratch database, runs the sanity check, and discards the scratch
   * database. Absent when the source cannot restore (verification then only re-hashes).
   */
  checkRestore?(
    body: ReadableStream<Uint8Array>,
    options: { readonly signal: AbortSignal },
  ): Promise<RestoreCheckResult>;
}

/**
 * The local backup directory. Names are plain file names (no `/`). `write` is atomic: a reader
 * or a crash never sees half a file under the final name.
 *
 * `read`, `size` and `delete` also take a location `locate()` answered, maybe in another
 * process: runs record it (`BackupRun.location`), and the runner passes it back when it differs
 * from where this port would put the file now (a relative directory resolved from another
 * working directory).
 */
export interface BackupFiles {
  write(
    name: string,
    body: ReadableStream<Uint8Array>,
    options: { readonly signal: AbortSignal },
  ): Promise<void>;
  /** `undefined` when the file does not exist. */
  read(name: string): Promise<ReadableStream<Uint8Array> | undefined>;
  /** Size in bytes; `undefined` when the file does not exist. */
  size(name: string): Promise<number | undefined>;
  /**
   * Deletes the file and whatever a `write` of it that never finished left behind (a temporary
   * file after a crash). Idempotent: deleting a missing file succeeds.
   */
  delete(name: string): Promise<void>;
  /**
   * Where a file is (an absolute path, or `memory:<name>`): shown to people, and recorded with
   * each run so that another process finds the file wherever it resolves the directory.
   */
  locate(name: string): string;
}
